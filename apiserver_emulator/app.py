"""The HTTP surface: routing of kube-apiserver URLs, content negotiation, watch streams, faults.

``Emulator`` builds the aiohttp application with :func:`build_app`; every resource request is
routed here to ``rest.Rest``; ``ApiError`` becomes a standard ``Status`` response.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass

from aiohttp import web

import yaml

from . import openapi, protobuf
from . import errors
from .errors import ApiError, bad_request
from .faults import Faults
from .resources import Registry, ResourceType
from .rest import Rest
from .selectors import field_selector, label_selector
from .store import Event, Store
from .tables import table

VERSION = {"major": "1", "minor": "34", "gitVersion": "v1.34.0", "gitCommit": "emulator", "gitTreeState": "clean",
           "buildDate": "2025-01-01T00:00:00Z", "goVersion": "go1.24", "compiler": "gc", "platform": "linux/amd64"}
_NOT_FOUND = "the server could not find the requested resource"
_PAGE_NOT_FOUND = "404 page not found\n"  # Go's http.NotFound, for paths outside any API group version
_PRE_TIMEOUT_BOOKMARK = 2.0  # the real server sends a bookmark 2 s before a watch's timeoutSeconds


class PlainNotFound(Exception):
    """A 404 answered by Go's mux, not by the API machinery: plain text (or no body)."""

    def __init__(self, text: str = _PAGE_NOT_FOUND):
        super().__init__(text)
        self.text = text


def resource_not_found() -> ApiError:
    return ApiError(404, _NOT_FOUND, details={})


@dataclass
class Route:
    rt: ResourceType
    namespace: str | None
    name: str | None
    subresource: str | None


def json_response(body: dict, status: int = 200, headers: dict | None = None) -> web.Response:
    return web.Response(body=json.dumps(body).encode(), status=status, content_type="application/json",
                        headers=headers)


def _wants_table(accept: str) -> bool:
    """True when the first acceptable media type the server supports is a meta.k8s.io Table."""
    for entry in accept.split(","):
        base, *params = [p.strip() for p in entry.split(";")]
        options = dict(p.split("=", 1) for p in params if "=" in p)
        if options.get("as") == "Table" and options.get("g") == "meta.k8s.io":
            return True
        if base in ("application/json", "*/*", "application/*") and "as" not in options:
            return False
    return False


def _flag(value: str | None) -> bool:
    return value in ("true", "1")


def _integer(query, name: str) -> int | None:
    value = query.get(name)
    if value in (None, ""):
        return None
    try:
        return int(value)
    except ValueError:
        raise bad_request(f'strconv.ParseInt: parsing "{value}": invalid syntax') from None


def _list_items(rt: ResourceType, items: list[dict]) -> list[dict]:
    """Items of built-in lists carry no apiVersion/kind (Go's typed lists); custom ones do."""
    if rt.custom:
        return items
    return [{k: v for k, v in item.items() if k not in ("apiVersion", "kind")} for item in items]


def _options_invalid(kind: str, field: str, message: str, reason: str = "FieldValueForbidden") -> ApiError:
    prefix = "Forbidden: " if reason == "FieldValueForbidden" else ""
    return errors.invalid(kind, "meta.k8s.io", "", [{"reason": reason, "field": field, "message": prefix + message}])


def _validate_list_options(query, watch: bool) -> None:
    """apimachinery's ValidateListOptions (the WatchList feature on), first error only."""
    match, initial = query.get("resourceVersionMatch", ""), "sendInitialEvents" in query
    if watch:
        if initial and match != "NotOlderThan":
            raise _options_invalid("ListOptions", "resourceVersionMatch",
                                   "sendInitialEvents requires setting resourceVersionMatch to NotOlderThan")
        if match and not initial:
            raise _options_invalid("ListOptions", "resourceVersionMatch",
                                   "resourceVersionMatch is forbidden for watch unless sendInitialEvents is provided")
        return
    if match and not query.get("resourceVersion"):
        raise _options_invalid("ListOptions", "resourceVersionMatch",
                               "resourceVersionMatch is forbidden unless resourceVersion is provided")
    if match and match not in ("Exact", "NotOlderThan"):
        raise _options_invalid("ListOptions", "resourceVersionMatch", f'Unsupported value: "{match}": supported '
                               'values: "Exact", "NotOlderThan", ""', "FieldValueNotSupported")
    if initial:
        raise _options_invalid("ListOptions", "sendInitialEvents", "sendInitialEvents is forbidden for list")


_OPTIONS_KIND = {"create": "CreateOptions", "update": "UpdateOptions", "patch": "PatchOptions",
                 "delete": "DeleteOptions", "deletecollection": "DeleteOptions"}


def _dry_run_option(query, verb: str) -> bool:
    values = query.getall("dryRun", [])
    if any(v != "All" for v in values) and verb in _OPTIONS_KIND:
        listed = "[" + ", ".join(json.dumps(v) for v in values) + "]"
        raise _options_invalid(_OPTIONS_KIND[verb], "dryRun", f'Unsupported value: {listed}: supported values: "All"',
                               "FieldValueNotSupported")
    return "All" in values


class ApiServer:
    def __init__(self, registry: Registry, store: Store, rest: Rest, faults: Faults, request_log: list,
                 bookmark_interval: float):
        self.registry, self.store, self.rest, self.faults = registry, store, rest, faults
        self.request_log = request_log
        self.bookmark_interval = bookmark_interval

    # --- entry point ---

    async def handle(self, request: web.Request) -> web.StreamResponse:
        status = 0
        try:
            response = await self._dispatch(request)
            status = response.status
            return response
        except ApiError as error:
            status = error.code
            return json_response(error.status(), error.code)
        except PlainNotFound as error:
            status = 404
            if not error.text:
                return web.Response(status=404)
            return web.Response(status=404, text=error.text, content_type="text/plain", charset="utf-8",
                                headers={"X-Content-Type-Options": "nosniff"})
        finally:
            self.request_log.append((request.method, request.path, status))

    async def _dispatch(self, request: web.Request) -> web.StreamResponse:
        parts = [p for p in request.path.split("/") if p]
        if parts in (["version"], ["healthz"], ["readyz"], ["livez"]):
            return json_response(VERSION) if parts == ["version"] else web.Response(text="ok")
        if parts == ["api"]:
            return json_response(self.registry.api_versions(request.host))
        if parts == ["apis"]:
            return json_response(self.registry.api_group_list())
        if parts[:2] == ["openapi", "v3"]:
            return self._openapi(parts[2:])
        if parts[:2] == ["api", "v1"]:
            group, version, rest = "", "v1", parts[2:]
        elif len(parts) >= 2 and parts[0] == "apis":
            if len(parts) == 2:
                group_document = self.registry.api_group(parts[1])
                if group_document is None:
                    raise PlainNotFound()
                return json_response(group_document)
            group, version, rest = parts[1], parts[2], parts[3:]
        else:
            raise PlainNotFound()
        if not self.registry.has_group_version(group, version):
            raise PlainNotFound()
        if not rest:
            return json_response(self.registry.resource_list(group, version))
        route = self._route(group, version, rest)
        verb = self._verb(request, route)
        fault = self.faults.take(request.method, verb.upper(), route.rt.plural, route.name, route.subresource)
        if fault is not None:
            return await self._fail(request, fault)
        return await self._serve(request, route, verb)

    def _openapi(self, parts: list[str]) -> web.Response:
        if not parts:  # kube-openapi serves the index as JSON labelled text/plain
            return web.Response(body=json.dumps(openapi.root_document(self.registry)).encode(),
                                content_type="text/plain", charset="utf-8")
        if len(parts) == 2 and parts[0] == "api":
            group, version = "", parts[1]
        elif len(parts) == 3 and parts[0] == "apis":
            group, version = parts[1], parts[2]
        else:
            raise PlainNotFound("")
        if not self.registry.has_group_version(group, version):
            raise PlainNotFound("")
        return json_response(openapi.group_version_document(self.registry, group, version))

    def _route(self, group: str, version: str, parts: list[str]) -> Route:
        namespace = None
        if len(parts) >= 3 and parts[0] == "namespaces":
            candidate = self.registry.lookup(group, version, parts[2])
            if candidate is not None and candidate.namespaced:
                namespace, parts = parts[1], parts[2:]
            elif candidate is not None:  # a cluster-scoped resource under a namespace: no such route
                raise PlainNotFound()
        rt = self.registry.lookup(group, version, parts[0])
        if rt is None or len(parts) > 3 or (namespace is not None and not rt.namespaced):
            raise resource_not_found()
        name = parts[1] if len(parts) > 1 else None
        subresource = parts[2] if len(parts) > 2 else None
        if subresource is not None and not (subresource == "status" and rt.status_subresource):
            if rt.custom:  # apiextensions-apiserver answers as if the object were missing
                raise errors.not_found(rt.plural, rt.group, name)
            raise resource_not_found()
        if rt.namespaced and name is not None and namespace is None:
            raise resource_not_found()
        return Route(rt, namespace, name, subresource)

    @staticmethod
    def _verb(request: web.Request, route: Route) -> str:
        method = request.method
        if route.name is None:
            if method == "GET":
                return "watch" if _flag(request.query.get("watch")) else "list"
            return {"POST": "create", "DELETE": "deletecollection"}.get(method, method.lower())
        return {"GET": "get", "PUT": "update", "PATCH": "patch", "DELETE": "delete"}.get(method, method.lower())

    async def _fail(self, request: web.Request, fault) -> web.StreamResponse:
        """Injected failure: nothing is read or written; a hang ends by dropping the connection."""
        if fault.hang:
            await asyncio.sleep(fault.hang)
            request.transport.close()
            return web.Response(status=504)
        headers = {"Retry-After": str(fault.retry_after)} if fault.retry_after is not None else None
        error = ApiError(fault.status, f"injected fault ({fault.status})")
        body = error.status()
        if fault.retry_after is not None:
            body["details"] = {"retryAfterSeconds": fault.retry_after}
        return json_response(body, fault.status, headers)

    # --- resource requests ---

    async def _serve(self, request: web.Request, route: Route, verb: str) -> web.StreamResponse:
        rt, namespace, name, query = route.rt, route.namespace, route.name, request.query
        dry_run = _dry_run_option(query, verb)
        strict = query.get("fieldValidation") == "Strict"
        if verb in ("watch", "list"):
            _validate_list_options(query, verb == "watch")
        if verb == "watch":
            return await self._watch(request, route)
        if verb == "list":
            matches = self._matcher(query, rt)
            # resourceVersion=0 is served from the real watch cache, which ignores limit
            limit = 0 if query.get("resourceVersion") == "0" else _integer(query, "limit") or 0
            items, meta = self.rest.list(rt, namespace, matches, limit, query.get("continue"))
            return self._respond(request, rt, {"kind": f"{rt.kind}List", "apiVersion": rt.api_version,
                                               "metadata": meta, "items": _list_items(rt, items)}, items, meta)
        if verb == "get":
            obj = self.rest.get(rt, namespace, name)
            return self._respond(request, rt, obj, [obj], {"resourceVersion": obj["metadata"]["resourceVersion"]})
        if verb == "create":
            if rt.namespaced and namespace is None:
                raise ApiError(405, "the server does not allow this method on the requested resource", details={})
            body = await self._body(request, rt)
            return json_response(self.rest.create(rt, namespace, body, dry_run, strict), 201)
        if verb == "update":
            obj = self.rest.update(rt, namespace, name, await self._body(request, rt), route.subresource, dry_run,
                                   strict)
            return json_response(obj)
        if verb == "patch":
            content_type = request.headers.get("Content-Type", "").split(";")[0].strip()
            obj = self.rest.patch(rt, namespace, name, content_type, await request.read(), route.subresource,
                                  dry_run, strict)
            return json_response(obj)
        if verb == "delete":
            options = await self._body(request, optional=True)
            obj, deleted = self.rest.delete(rt, namespace, name, options, dry_run or self._dry_run(options))
            if deleted:
                return json_response({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success",
                                      "details": errors.details(name, rt.group, rt.plural,
                                                                uid=obj["metadata"]["uid"])})
            return json_response(obj)
        if verb == "deletecollection":
            options = await self._body(request, optional=True)
            items = self.rest.delete_collection(rt, namespace, self._matcher(query, rt), options,
                                                dry_run or self._dry_run(options))
            return json_response({"kind": f"{rt.kind}List", "apiVersion": rt.api_version,
                                  "metadata": {"resourceVersion": str(self.store.resource_version)},
                                  "items": _list_items(rt, items)})
        raise ApiError(405, "the server does not allow this method on the requested resource", details={})

    @staticmethod
    def _matcher(query, rt: ResourceType):
        labels = label_selector(query.get("labelSelector"))
        fields = field_selector(query.get("fieldSelector"), rt.field_labels)
        return lambda obj: labels(obj) and fields(obj)

    @staticmethod
    def _dry_run(options: dict | None) -> bool:
        """DeleteOptions carry dryRun in the body too (kubectl delete --dry-run=server sends it there)."""
        return isinstance(options, dict) and "All" in (options.get("dryRun") or [])

    @staticmethod
    async def _body(request: web.Request, rt: ResourceType | None = None, optional: bool = False) -> dict | None:
        """The decoded body: JSON, YAML, or (for the built-in kinds client-go sends so) protobuf."""
        raw = await request.read()
        if not raw and optional:
            return None
        media_type = request.headers.get("Content-Type", "application/json").split(";")[0].strip()
        if media_type == "application/vnd.kubernetes.protobuf" and rt is not None and not rt.custom \
                and rt.kind in protobuf.KINDS:
            return protobuf.decode(raw, rt.kind)
        if media_type not in ("application/json", "application/yaml", "*/*", ""):
            # the real server's words (for every kind; the emulator decodes protobuf for protobuf.KINDS only)
            raise ApiError(415, "the body of the request was in an unknown format - accepted media types include: "
                                "application/json, application/yaml, application/vnd.kubernetes.protobuf")
        try:
            return yaml.safe_load(raw) if media_type == "application/yaml" else json.loads(raw)
        except (ValueError, yaml.YAMLError) as e:
            raise bad_request(f"the body of the request could not be decoded: {e}") from None

    @staticmethod
    def _respond(request: web.Request, rt: ResourceType, document: dict, objects: list[dict],
                 list_meta: dict) -> web.Response:
        if _wants_table(request.headers.get("Accept", "")):
            include = request.query.get("includeObject", "Metadata")
            return json_response(table(rt.columns, objects, list_meta, include))
        return json_response(document)

    # --- watch ---

    async def _watch(self, request: web.Request, route: Route) -> web.StreamResponse:
        rt, namespace, query = route.rt, route.namespace, request.query
        selected = self._matcher(query, rt)

        def matches(obj: dict | None) -> bool:
            return obj is not None and (namespace is None or obj["metadata"].get("namespace") == namespace) \
                and selected(obj)

        since_param = query.get("resourceVersion")
        if since_param not in (None, "", "0") and not since_param.isdigit():
            raise ApiError(500, f'resourceVersion: Invalid value: "{since_param}": strconv.ParseUint: parsing '
                                f'"{since_param}": invalid syntax', reason="")
        since = None if since_param in (None, "", "0") else _integer(query, "resourceVersion")
        timeout = _integer(query, "timeoutSeconds")
        bookmarks = _flag(query.get("allowWatchBookmarks"))
        as_table = _wants_table(request.headers.get("Accept", ""))
        include = query.get("includeObject", "Metadata")
        response = web.StreamResponse(headers={"Content-Type": "application/json"})
        first_table = True

        async def send(event_type: str, obj: dict) -> None:
            nonlocal first_table
            if as_table and event_type != "BOOKMARK":
                obj = table(rt.columns, [obj], {"resourceVersion": obj["metadata"]["resourceVersion"]}, include,
                            with_definitions=first_table)
                first_table = False
            await response.write(json.dumps({"type": event_type, "object": obj}).encode() + b"\n")

        async def bookmark(resource_version: int, annotations: dict | None = None) -> None:
            metadata = {"resourceVersion": str(resource_version)}
            if annotations:
                metadata["annotations"] = annotations
            await send("BOOKMARK", {"kind": rt.kind, "apiVersion": rt.api_version, "metadata": metadata})

        try:
            subscription, backlog = self.store.subscribe(rt.storage_key, since)
        except ApiError as error:
            await response.prepare(request)
            await response.write(json.dumps({"type": "ERROR", "object": error.status()}).encode() + b"\n")
            return response
        initial = [o for o in self.store.objects(rt.storage_key, namespace) if selected(o)] if since is None else []
        try:
            await response.prepare(request)
            for obj in initial:
                await send("ADDED", self.rest.served(rt, obj))
            # Like the real cacher, periodic bookmarks only go out once the resource moved past where the
            # watch started: they carry the resource's latest resourceVersion, not the store's.
            start = since if since is not None else self.store.last_resource_version(rt.storage_key)
            if bookmarks and _flag(query.get("sendInitialEvents")):
                start = self.store.resource_version  # a consistent read: as of now
                await bookmark(start, {"k8s.io/initial-events-end": "true"})
            for event in backlog:
                await self._deliver(event, rt, matches, send)
                start = max(start, event.rv)
            loop = asyncio.get_running_loop()
            deadline = loop.time() + timeout if timeout else None

            def next_bookmark_at(now: float) -> float | None:
                """Like the real cacher: every bookmark_interval and 2 s before the timeout, never after."""
                if not bookmarks:
                    return None
                due = now + self.bookmark_interval
                if deadline is not None:
                    due = min(due, deadline - _PRE_TIMEOUT_BOOKMARK)
                return due if due >= now else None

            next_bookmark = next_bookmark_at(loop.time())
            while True:
                wake = min((t for t in (deadline, next_bookmark) if t is not None), default=None)
                try:
                    if wake is None:
                        event = await subscription.queue.get()
                    else:
                        event = await asyncio.wait_for(subscription.queue.get(), max(0.0, wake - loop.time()))
                except asyncio.TimeoutError:
                    if next_bookmark is not None and loop.time() >= next_bookmark:
                        latest = self.store.last_resource_version(rt.storage_key)
                        if latest > start:  # the queue is empty: every event up to now was delivered
                            await bookmark(latest)
                        next_bookmark = next_bookmark_at(loop.time())
                    if deadline is not None and loop.time() >= deadline:
                        break
                    continue
                if event is None:
                    break
                await self._deliver(event, rt, matches, send)
        except ConnectionResetError:
            pass
        finally:
            self.store.unsubscribe(subscription)
        return response

    async def _deliver(self, event: Event, rt: ResourceType, matches, send) -> None:
        """Selector watches see objects enter (ADDED) and leave (DELETED) the selection."""
        was, now = matches(event.old), matches(event.obj)
        if event.type == "DELETED":
            event_type = "DELETED" if was else None
        elif was and now:
            event_type = "MODIFIED"
        else:
            event_type = "ADDED" if now else ("DELETED" if was else None)
        if event_type:
            await send(event_type, self.rest.served(rt, event.obj))


def build_app(server: ApiServer) -> web.Application:
    app = web.Application(client_max_size=64 * 1024 * 1024)
    app.router.add_route("*", "/{tail:.*}", server.handle)
    return app

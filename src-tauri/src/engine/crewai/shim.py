#!/usr/bin/env python3
"""Crew Runner's CrewAI shim: runs a user's own CrewAI project and reports it as events.

The contract with the Rust side is docs/CREWAI_ENGINE.md. Two modes:

    python -u shim.py serve --socket PATH   # the server: imports crewai once, forks a child per connection
    python shim.py once --request FILE      # debugging: one request in-process, events on stdout

Only the standard library and what crewai itself depends on (pydantic, python-dotenv) are used.
"""

from __future__ import annotations

import os

# Telemetry and tracing off before crewai is imported (setdefault: an explicit environment wins).
for _key, _value in (
    ("OTEL_SDK_DISABLED", "true"),
    ("CREWAI_DISABLE_TELEMETRY", "true"),
    ("CREWAI_DISABLE_TRACKING", "true"),
    ("CREWAI_TRACING_ENABLED", "false"),
):
    os.environ.setdefault(_key, _value)

import argparse
import ctypes
import functools
import io
import json
import platform
import queue
import runpy
import select
import signal
import socket
import sys
import threading
import time
import traceback

DEFAULT_CAP = 65536
TRACEBACK_CAP = 65536
PR_SET_PDEATHSIG = 1

# ---------------------------------------------------------------------------------------------
# Small helpers


def cap_text(text, limit):
    """Caps a text at `limit` UTF-8 bytes (keeping the head), marking what was cut."""
    if text is None:
        return None
    if not isinstance(text, str):
        text = str(text)
    data = text.encode("utf-8", "replace")
    if len(data) <= limit:
        return text
    head = data[:limit].decode("utf-8", "ignore")
    cut = len(data) - len(head.encode("utf-8"))
    return f"{head}…[truncated {cut} bytes]"


def cap_tail(text, limit):
    """Caps a text at `limit` UTF-8 bytes keeping the tail (tracebacks: the end matters)."""
    data = text.encode("utf-8", "replace")
    if len(data) <= limit:
        return text
    tail = data[-limit:].decode("utf-8", "ignore")
    cut = len(data) - len(tail.encode("utf-8"))
    return f"…[truncated {cut} bytes]{tail}"


def json_default(value):
    dump = getattr(value, "model_dump", None)
    if callable(dump):
        try:
            return dump(mode="json")
        except Exception:
            pass
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    iso = getattr(value, "isoformat", None)
    if callable(iso):
        try:
            return iso()
        except Exception:
            pass
    return str(value)


def jsonable(value):
    """A JSON-safe copy of `value` (pydantic models dumped, unknown objects as str)."""
    if value is None:
        return None
    try:
        return json.loads(json.dumps(value, default=json_default, ensure_ascii=False))
    except Exception:
        return str(value)


def role_of(agent):
    role = getattr(agent, "role", None) if agent is not None else None
    return role.strip() if isinstance(role, str) else role


def strip_or_none(text):
    return text.strip() if isinstance(text, str) else text


def set_pdeathsig():
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except Exception:
        pass


def crewai_version():
    try:
        import crewai

        return getattr(crewai, "__version__", None)
    except Exception:
        return None


# ---------------------------------------------------------------------------------------------
# The event channel


class Channel:
    """Writes one JSON object per line; a lock keeps lines whole across threads."""

    def __init__(self, write, on_broken):
        self._write = write
        self._on_broken = on_broken
        self._lock = threading.Lock()
        self.cap = DEFAULT_CAP

    def send(self, type_, **fields):
        obj = {"type": type_, "ts": time.time()}
        obj.update(fields)
        try:
            line = json.dumps(obj, default=json_default, ensure_ascii=False)
        except Exception as exc:  # never lose an event to an unserialisable field
            line = json.dumps({"type": type_, "ts": obj["ts"], "shim_error": str(exc)})
        data = (line + "\n").encode("utf-8", "replace")
        with self._lock:
            try:
                self._write(data)
            except OSError:
                self._on_broken()


def socket_writer(conn):
    return conn.sendall


def fd_writer(fd):
    def write(data):
        view = memoryview(data)
        while view:
            n = os.write(fd, view)
            view = view[n:]

    return write


# ---------------------------------------------------------------------------------------------
# Output capture: fds 1 and 2 into pipes, each line forwarded as an `output` event


class OutputCapture:
    def __init__(self, channel):
        self.channel = channel
        self.threads = []

    def start(self):
        for fd, name in ((1, "stdout"), (2, "stderr")):
            r, w = os.pipe()
            os.dup2(w, fd)
            os.close(w)
            t = threading.Thread(target=self._pump, args=(r, name), name=f"shim-{name}", daemon=True)
            t.start()
            self.threads.append(t)
        # Fresh text layers over the redirected fds, line-buffered and write-through.
        sys.stdout = io.TextIOWrapper(
            io.FileIO(1, "w", closefd=False), encoding="utf-8", errors="backslashreplace",
            line_buffering=True, write_through=True,
        )
        sys.stderr = io.TextIOWrapper(
            io.FileIO(2, "w", closefd=False), encoding="utf-8", errors="backslashreplace",
            line_buffering=True, write_through=True,
        )

    def _pump(self, r, name):
        pending = b""
        while True:
            try:
                chunk = os.read(r, 65536)
            except InterruptedError:
                continue
            except OSError:
                chunk = b""
            if not chunk:
                break
            pending += chunk
            *lines, pending = pending.split(b"\n")
            for line in lines:
                self._line(line, name)
        if pending:
            self._line(pending, name)
        os.close(r)

    def _line(self, raw, name):
        text = raw.decode("utf-8", "replace").rstrip("\r")
        self.channel.send("output", stream=name, text=cap_text(text, self.channel.cap))

    def drain(self, timeout=5.0):
        """Closes our ends of fds 1/2 and waits for the pumps to forward what is left.

        A grandchild that still holds the pipe keeps it open: the wait is then bounded."""
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except Exception:
                pass
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 1)
        os.dup2(devnull, 2)
        os.close(devnull)
        deadline = time.monotonic() + timeout
        for t in self.threads:
            t.join(max(0.0, deadline - time.monotonic()))


# ---------------------------------------------------------------------------------------------
# Errors


def _status_of(exc):
    status = getattr(exc, "status_code", None)
    if not isinstance(status, int):
        status = getattr(getattr(exc, "response", None), "status_code", None)
    return status if isinstance(status, int) and 100 <= status <= 599 else None


def _class_names(exc):
    return {klass.__name__ for klass in type(exc).__mro__}


def _category_of_one(exc, loading):
    status = _status_of(exc)
    names = _class_names(exc)
    if status == 429 or "RateLimitError" in names:
        return "rate_limit"
    if (status is not None and status >= 500) or "InternalServerError" in names:
        return "server"
    # Timeouts before connection errors: openai's APITimeoutError subclasses APIConnectionError.
    if isinstance(exc, TimeoutError) or names & {"APITimeoutError", "TimeoutException"}:
        return "timeout"
    if isinstance(exc, ConnectionError) or names & {"APIConnectionError", "ConnectError", "NetworkError", "RemoteProtocolError"}:
        return "connection"
    if status in (401, 403) or names & {"AuthenticationError", "PermissionDeniedError"}:
        return "auth"
    if status is not None and 400 <= status < 500:
        return "client"
    if loading and isinstance(exc, (ImportError, SyntaxError)):
        return "import"
    return None


def exception_chain(exc):
    """The exception, then its __cause__ and __context__ (depth first), each once."""
    seen = set()
    out = []
    stack = [exc]
    while stack:
        cur = stack.pop()
        if cur is None or id(cur) in seen:
            continue
        seen.add(id(cur))
        out.append(cur)
        # push context first so cause is visited first
        stack.append(getattr(cur, "__context__", None))
        stack.append(getattr(cur, "__cause__", None))
    return out


def _retry_after_of(exc):
    response = getattr(exc, "response", None)
    headers = getattr(response, "headers", None) or getattr(exc, "headers", None)
    if headers is None:
        return None
    try:
        ms = headers.get("retry-after-ms")
        if ms is not None:
            return max(0.0, float(ms) / 1000.0)
    except Exception:
        pass
    try:
        value = headers.get("retry-after")
    except Exception:
        return None
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except (TypeError, ValueError):
        pass
    try:
        from email.utils import parsedate_to_datetime

        when = parsedate_to_datetime(value)
        return max(0.0, when.timestamp() - time.time())
    except Exception:
        return None


def qualified_name(klass):
    module = getattr(klass, "__module__", None)
    if module in (None, "builtins", "__main__"):
        return klass.__qualname__
    return f"{module}.{klass.__qualname__}"


def error_fields(exc, loading, limit):
    chain = exception_chain(exc)
    category = None
    for candidate in chain:
        category = _category_of_one(candidate, loading)
        if category:
            break
    status = next((s for s in (_status_of(c) for c in chain) if s is not None), None)
    retry_after = next((r for r in (_retry_after_of(c) for c in chain) if r is not None), None)
    try:
        tb = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    except Exception:
        tb = repr(exc)
    return {
        "exception": qualified_name(type(exc)),
        "message": cap_text(str(exc), limit),
        "traceback": cap_tail(tb, min(limit, TRACEBACK_CAP) if limit > 0 else TRACEBACK_CAP),
        "category": category or "crew",
        "retry_after": retry_after,
        "status": status,
    }


# ---------------------------------------------------------------------------------------------
# Task keys


def task_keys(crew):
    """Keys of a crew's tasks, in order: the task's name, else task_<n>; unique within the crew
    (a repeated name gets `_<n>`, n its 1-based position)."""
    keys = []
    seen = set()
    for n, task in enumerate(getattr(crew, "tasks", None) or [], 1):
        name = getattr(task, "name", None)
        key = name.strip() if isinstance(name, str) and name.strip() else f"task_{n}"
        if key in seen:
            key = f"{key}_{n}"
            while key in seen:
                key += "_"
        seen.add(key)
        keys.append(key)
    return keys


def output_json(output):
    """`json_dict`, else the pydantic output dumped, else None (TaskOutput and CrewOutput)."""
    if output is None:
        return None
    data = getattr(output, "json_dict", None)
    if data:
        return jsonable(data)
    model = getattr(output, "pydantic", None)
    if model is not None and hasattr(model, "model_dump"):
        try:
            return jsonable(model.model_dump(mode="json"))
        except Exception:
            return None
    return None


# ---------------------------------------------------------------------------------------------
# The run: one request, its hooks into CrewAI and its events


_NOTHING = object()


class Run:
    def __init__(self, request, channel):
        self.req = request
        self.channel = channel
        self.cap = int(request.get("max_output_bytes") or DEFAULT_CAP)
        channel.cap = self.cap
        self.inputs = dict(request.get("inputs") or {})
        self.model = request.get("model") or None
        self.completed = list(request.get("completed_tasks") or [])
        self.lock = threading.Lock()
        self.claimed = False
        self.loading = True
        self.result = _NOTHING
        self.resume_reported = False
        self.resume_start = {}  # id(crew) -> start index
        self.task_keys = {}  # str(task.id) -> key

    # -- text

    def t(self, text):
        return cap_text(text, self.cap)

    # -- outermost kickoff

    def claim(self):
        with self.lock:
            if self.claimed:
                return False
            self.claimed = True
            self.loading = False
            return True

    def merged(self, args, kwargs):
        """Merges the request's inputs over the author's `inputs` argument."""
        args = list(args)
        if args:
            theirs = args[0]
        else:
            theirs = kwargs.get("inputs")
        if theirs is None and not self.inputs:
            return args, kwargs
        merged = dict(theirs or {})
        merged.update(self.inputs)
        if args:
            args[0] = merged
        else:
            kwargs["inputs"] = merged
        return args, kwargs

    def report_resume(self, **fields):
        if self.completed and not self.resume_reported:
            self.resume_reported = True
            self.channel.send("resume", **fields)

    def prepare_resume(self, crew, kwargs):
        if not self.completed:
            return
        if kwargs.get("from_checkpoint") is not None:
            self.report_resume(unsupported="the kickoff restores its own CrewAI checkpoint")
            return
        if getattr(crew, "stream", False):
            self.report_resume(unsupported="streaming crews (stream=True) cannot be resumed")
            return
        keys = task_keys(crew)
        wanted = [str(done.get("task")) for done in self.completed]
        if wanted != keys[: len(wanted)]:
            self.report_resume(
                unsupported=f"the completed tasks {wanted} are not the first tasks of the crew {keys}"
            )
            return
        try:
            from crewai.tasks.task_output import TaskOutput

            for task, done in zip(crew.tasks, self.completed):
                task.output = stored_output(TaskOutput, task, done)
        except Exception as exc:
            for task in crew.tasks[: len(wanted)]:
                try:
                    task.output = None
                except Exception:
                    pass
            self.report_resume(unsupported=f"could not rebuild the stored outputs: {exc}")
            return
        self.resume_start[id(crew)] = len(wanted)
        self.report_resume(skipped=wanted)

    def set_result(self, result):
        self.result = result

    # -- events

    def key_for(self, task=None, task_id=None):
        if task is not None:
            task_id = getattr(task, "id", None)
        if task_id is not None:
            key = self.task_keys.get(str(task_id))
            if key is not None:
                return key
        if task is not None:
            name = getattr(task, "name", None)
            if isinstance(name, str) and name.strip():
                return name.strip()
        return None

    def on_event(self, source, event):
        kind = getattr(event, "type", None)
        handler = EVENT_HANDLERS.get(kind)
        if kind in FLOW_EVENTS and _internal_flow(source):
            return
        if handler is None:
            if str(getattr(event, "type", "")).startswith("mcp_"):
                handler = _mcp
            else:
                return
        fields = handler(self, source, event)
        if fields is not None:
            name, body = fields
            self.channel.send(name, **body)


def stored_output(TaskOutput, task, done):
    raw = done.get("output")
    raw = "" if raw is None else str(raw)
    data = done.get("json")
    pydantic_out = None
    json_dict = None
    if isinstance(data, dict):
        model_cls = getattr(task, "output_pydantic", None)
        if model_cls is not None:
            try:
                pydantic_out = model_cls.model_validate(data)
            except Exception:
                pydantic_out = None
        if getattr(task, "output_json", None) is not None or pydantic_out is None:
            json_dict = data
    fmt = {}
    getter = getattr(task, "_get_output_format", None)
    if callable(getter):
        try:
            fmt["output_format"] = getter()
        except Exception:
            pass
    return TaskOutput(
        name=getattr(task, "name", None),
        description=getattr(task, "description", "") or "",
        expected_output=getattr(task, "expected_output", None),
        raw=raw,
        pydantic=pydantic_out,
        json_dict=json_dict,
        agent=role_of(getattr(task, "agent", None)) or "",
        **fmt,
    )


# -- event handlers: (run, source, event) -> (type, fields) or None


def _interpolated_role(agent, inputs):
    """The agent's role as the kickoff will interpolate it (crew_started comes before that)."""
    role = role_of(agent)
    if not role or not inputs or "{" not in role:
        return role
    try:
        from crewai.utilities.string_utils import interpolate_only

        return interpolate_only(role, inputs).strip()
    except Exception:
        return role


def _crew_started(run, source, event):
    crew = source if hasattr(source, "tasks") else getattr(event, "crew", None)
    inputs = getattr(event, "inputs", None)
    tasks = []
    if crew is not None:
        for task, key in zip(crew.tasks, task_keys(crew)):
            run.task_keys[str(task.id)] = key
            tasks.append({
                "key": key,
                "agent": _interpolated_role(getattr(task, "agent", None), inputs),
                "output_json": bool(getattr(task, "output_json", None) or getattr(task, "output_pydantic", None)),
            })
    name = getattr(event, "crew_name", None) or getattr(crew, "name", None)
    return "crew_started", {"crew": name, "inputs": jsonable(getattr(event, "inputs", None)), "tasks": tasks}


def _crew_completed(run, source, event):
    out = getattr(event, "output", None)
    raw = getattr(out, "raw", out)
    return "crew_completed", {
        "crew": getattr(event, "crew_name", None),
        "output": run.t(raw),
        "total_tokens": getattr(event, "total_tokens", None),
    }


def _crew_failed(run, source, event):
    return "crew_failed", {"crew": getattr(event, "crew_name", None), "error": run.t(event.error)}


def _task_agent(event):
    task = getattr(event, "task", None)
    return role_of(getattr(task, "agent", None)) or strip_or_none(getattr(event, "agent_role", None))


def _task_started(run, source, event):
    task = getattr(event, "task", None) or source
    return "task_started", {"task": run.key_for(task=task), "agent": _task_agent(event)}


def _task_completed(run, source, event):
    task = getattr(event, "task", None) or source
    out = event.output
    return "task_completed", {
        "task": run.key_for(task=task),
        "agent": _task_agent(event) or strip_or_none(getattr(out, "agent", None)),
        "output": run.t(getattr(out, "raw", None)),
        "json": output_json(out),
    }


def _task_failed(run, source, event):
    task = getattr(event, "task", None) or source
    return "task_failed", {"task": run.key_for(task=task), "agent": _task_agent(event), "error": run.t(event.error)}


def _agent(kind):
    def handler(run, source, event):
        body = {"agent": role_of(getattr(event, "agent", None)), "task": run.key_for(task=getattr(event, "task", None))}
        if kind == "agent_failed":
            body["error"] = run.t(getattr(event, "error", None))
        return kind, body

    return handler


def _tool_base(run, event):
    args = getattr(event, "tool_args", None)
    if isinstance(args, str):
        try:
            args = json.loads(args)
        except Exception:
            pass
    return {
        "agent": strip_or_none(getattr(event, "agent_role", None)),
        "task": run.key_for(task_id=getattr(event, "task_id", None)),
        "tool": getattr(event, "tool_name", None),
        "args": jsonable(args),
    }


def _tool_started(run, source, event):
    return "tool_started", _tool_base(run, event)


def _tool_finished(run, source, event):
    body = _tool_base(run, event)
    del body["args"]
    output = getattr(event, "output", None)
    body["output"] = run.t(output if isinstance(output, str) else json.dumps(jsonable(output), ensure_ascii=False))
    return "tool_finished", body


def _tool_error(run, source, event):
    body = _tool_base(run, event)
    del body["args"]
    body["error"] = run.t(getattr(event, "error", None))
    return "tool_error", body


def _llm_base(run, event):
    return {
        "model": getattr(event, "model", None),
        "agent": strip_or_none(getattr(event, "agent_role", None)),
        "task": run.key_for(task_id=getattr(event, "task_id", None)),
        "call_id": getattr(event, "call_id", None),
    }


def _usage(usage):
    if not isinstance(usage, dict):
        return None
    prompt = usage.get("prompt_tokens", usage.get("input_tokens"))
    completion = usage.get("completion_tokens", usage.get("output_tokens"))
    total = usage.get("total_tokens")
    if prompt is None and completion is None and not total:
        return None
    prompt = int(prompt or 0)
    completion = int(completion or 0)
    total = int(total) if total else prompt + completion
    return {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": total}


def _llm_started(run, source, event):
    return "llm_started", _llm_base(run, event)


def _messages(run, messages):
    """The call's messages as [{role, content}] (a plain prompt is one user message), each text
    capped; None when the event has none."""
    if messages is None:
        return None
    if isinstance(messages, str):
        return [{"role": "user", "content": run.t(messages)}]
    out = []
    try:
        for m in messages:
            if isinstance(m, dict):
                content = m.get("content")
                if not isinstance(content, str):
                    content = json.dumps(jsonable(content), ensure_ascii=False) if content is not None else ""
                out.append({"role": str(m.get("role") or ""), "content": run.t(content)})
            else:
                out.append({"role": "", "content": run.t(str(m))})
    except Exception:
        return None
    return out


def _llm_completed(run, source, event):
    body = _llm_base(run, event)
    body["usage"] = _usage(getattr(event, "usage", None))
    messages = _messages(run, getattr(event, "messages", None))
    if messages is not None:
        body["messages"] = messages
        response = getattr(event, "response", None)
        body["response"] = run.t(response if isinstance(response, str) else str(jsonable(response) or ""))
    return "llm_completed", body


def _llm_failed(run, source, event):
    body = _llm_base(run, event)
    body["error"] = run.t(getattr(event, "error", None))
    return "llm_failed", body


def _flow_started(run, source, event):
    return "flow_started", {"flow": event.flow_name, "inputs": jsonable(getattr(event, "inputs", None))}


def _flow_finished(run, source, event):
    text, _ = result_text(getattr(event, "result", None))
    return "flow_finished", {"flow": event.flow_name, "output": run.t(text)}


def _flow_failed(run, source, event):
    return "flow_failed", {"flow": event.flow_name, "error": run.t(str(getattr(event, "error", "")))}


def _method(kind):
    def handler(run, source, event):
        body = {"flow": event.flow_name, "method": event.method_name}
        if kind == "method_finished":
            body["output"] = run.t(result_text(getattr(event, "result", None))[0])
        elif kind == "method_failed":
            body["error"] = run.t(str(getattr(event, "error", "")))
        return kind, body

    return handler


def _mcp(run, source, event):
    return "mcp", {
        "event": event.type,
        "server": getattr(event, "server_name", None),
        "tool": getattr(event, "tool_name", None),
        "error": run.t(getattr(event, "error", None)),
    }


EVENT_HANDLERS = {
    "crew_kickoff_started": _crew_started,
    "crew_kickoff_completed": _crew_completed,
    "crew_kickoff_failed": _crew_failed,
    "task_started": _task_started,
    "task_completed": _task_completed,
    "task_failed": _task_failed,
    "agent_execution_started": _agent("agent_started"),
    "agent_execution_completed": _agent("agent_completed"),
    "agent_execution_error": _agent("agent_failed"),
    "tool_usage_started": _tool_started,
    "tool_usage_finished": _tool_finished,
    "tool_usage_error": _tool_error,
    "llm_call_started": _llm_started,
    "llm_call_completed": _llm_completed,
    "llm_call_failed": _llm_failed,
    "flow_started": _flow_started,
    "flow_finished": _flow_finished,
    "flow_failed": _flow_failed,
    "method_execution_started": _method("method_started"),
    "method_execution_finished": _method("method_finished"),
    "method_execution_failed": _method("method_failed"),
}


FLOW_EVENTS = frozenset(
    t for t in EVENT_HANDLERS if t.startswith(("flow_", "method_execution_"))
)


def _internal_flow(source):
    """CrewAI runs agents as flows of its own (AgentExecutor): not the project's flows."""
    module = getattr(type(source), "__module__", "") or ""
    return module == "crewai" or module.startswith("crewai.")


def result_text(result):
    """(text, json) of a kickoff's result: CrewOutput/TaskOutput, pydantic model, dict or anything."""
    if result is None:
        return None, None
    if hasattr(result, "raw") and hasattr(result, "json_dict"):
        return getattr(result, "raw", None), output_json(result)
    if hasattr(result, "model_dump"):
        data = jsonable(result)
        return json.dumps(data, ensure_ascii=False), data if isinstance(data, dict) else None
    if isinstance(result, dict):
        data = jsonable(result)
        return json.dumps(data, ensure_ascii=False), data
    if isinstance(result, str):
        return result, None
    return str(result), None


# ---------------------------------------------------------------------------------------------
# Hooks into CrewAI, installed once (in the server before any fork; in `once` mode at start)

CURRENT = None  # the Run of this process, set in the child


def install_hooks():
    from crewai import Crew, Flow
    from crewai.events.event_bus import CrewAIEventsBus

    original_emit = CrewAIEventsBus.emit

    # CrewAI dispatches sync handlers on a 10-thread pool, so handlers registered with
    # `crewai_event_bus.on` may run out of emission order. The shim writes each event
    # synchronously on the emitting thread instead, before CrewAI dispatches it.
    @functools.wraps(original_emit)
    def emit(self, source, event):
        run = CURRENT
        if run is not None:
            try:
                run.on_event(source, event)
            except Exception:
                pass
        return original_emit(self, source, event)

    CrewAIEventsBus.emit = emit

    for cls, is_flow in ((Crew, False), (Flow, True)):
        for name in ("kickoff", "kickoff_async", "akickoff"):
            owner = next((k for k in cls.__mro__ if name in k.__dict__), None)
            if owner is None:
                continue
            original = owner.__dict__[name]
            setattr(owner, name, _wrap_kickoff(original, is_flow))

    for name in ("_execute_tasks", "_aexecute_tasks"):
        original = Crew.__dict__.get(name)
        if original is not None:
            setattr(Crew, name, _wrap_execute(original))


def _outer_enter(self, args, kwargs, is_flow):
    run = CURRENT
    if run is None or not run.claim():
        return None, args, kwargs
    args, kwargs = run.merged(args, kwargs)
    if is_flow:
        run.report_resume(unsupported="flows cannot be resumed from completed tasks; the flow runs from its start")
    else:
        run.prepare_resume(self, kwargs)
    return run, args, kwargs


def _settle(result):
    """A streaming kickoff returns a stream object; its result is there once consumed."""
    if type(result).__name__.endswith(("StreamingOutput", "StreamSession")):
        try:
            return result.result
        except Exception:
            return result
    return result


def _wrap_kickoff(original, is_flow):
    import inspect

    if inspect.iscoroutinefunction(original):

        @functools.wraps(original)
        async def kickoff_async(self, *args, **kwargs):
            run, args, kwargs = _outer_enter(self, args, kwargs, is_flow)
            result = await original(self, *args, **kwargs)
            if run is not None:
                run.set_result(result)
            return result

        return kickoff_async

    @functools.wraps(original)
    def kickoff(self, *args, **kwargs):
        run, args, kwargs = _outer_enter(self, args, kwargs, is_flow)
        result = original(self, *args, **kwargs)
        if run is not None:
            run.set_result(result)
        return result

    return kickoff


def _wrap_execute(original):
    import inspect

    def start_of(self, args, kwargs):
        run = CURRENT
        start = run.resume_start.pop(id(self), None) if run is not None else None
        if start is None:
            return args, kwargs
        args = list(args)
        if len(args) >= 2:
            args[1] = start
        else:
            kwargs["start_index"] = start
        return args, kwargs

    if inspect.iscoroutinefunction(original):

        @functools.wraps(original)
        async def aexecute(self, *args, **kwargs):
            args, kwargs = start_of(self, args, kwargs)
            return await original(self, *args, **kwargs)

        return aexecute

    @functools.wraps(original)
    def execute(self, *args, **kwargs):
        args, kwargs = start_of(self, args, kwargs)
        return original(self, *args, **kwargs)

    return execute


# ---------------------------------------------------------------------------------------------
# Running a request


def _evict_foreign(package, root):
    """Drops an already-imported module of the project's package name that is not the project's."""
    mod = sys.modules.get(package)
    if mod is None:
        return
    where = os.path.abspath(getattr(mod, "__file__", None) or "")
    if where.startswith(os.path.abspath(root) + os.sep):
        return
    for name in list(sys.modules):
        if name == package or name.startswith(package + "."):
            del sys.modules[name]


def _prepare(req):
    import importlib

    root = os.path.abspath(req.get("root") or os.getcwd())
    os.chdir(root)
    for key, value in (req.get("env") or {}).items():
        if value is None:
            os.environ.pop(str(key), None)
        else:
            os.environ[str(key)] = str(value)
    env_file = os.path.join(root, ".env")
    if os.path.isfile(env_file):
        from dotenv import load_dotenv

        load_dotenv(env_file, override=False)
    sys.path[:0] = [os.path.join(root, "src"), root]
    importlib.invalidate_caches()
    return root


def _run_kind(req, root, run):
    import importlib

    kind = req.get("kind")
    entry = os.path.abspath(req.get("entry") or "")
    inputs = dict(req.get("inputs") or {})
    if kind == "script":
        sys.argv = [entry]
        sys.path.insert(0, os.path.dirname(entry))
        try:
            runpy.run_path(entry, run_name="__main__")
        except SystemExit as exc:
            if exc.code not in (None, 0):
                raise
        return
    if kind not in ("crew_project", "flow_project"):
        raise ValueError(f"unknown request kind {kind!r}")
    package = os.path.basename(entry.rstrip(os.sep))
    _evict_foreign(package, root)
    sys.argv = [package]
    try:
        main = importlib.import_module(f"{package}.main")
    except ModuleNotFoundError as exc:
        if exc.name not in (f"{package}.main",) or kind == "flow_project":
            raise
        main = None
    if kind == "crew_project":
        if main is not None and callable(getattr(main, "run", None)):
            _call_entry(main.run)
            return
        crew_mod = importlib.import_module(f"{package}.crew")
        classes = [
            obj for obj in vars(crew_mod).values()
            if getattr(obj, "is_crew_class", False) and getattr(obj, "__module__", None) == crew_mod.__name__
        ]
        if not classes:
            raise ImportError(f"no @CrewBase class in {package}.crew and no run() in {package}.main")
        classes[0]().crew().kickoff(inputs=inputs)
        return
    # flow_project
    if callable(getattr(main, "kickoff", None)):
        _call_entry(main.kickoff)
        return
    from crewai.flow.flow import Flow

    flows = [
        obj for obj in vars(main).values()
        if isinstance(obj, type) and issubclass(obj, Flow) and obj.__module__ == main.__name__
    ]
    if not flows:
        raise ImportError(f"no Flow subclass and no kickoff() in {package}.main")
    flows[0]().kickoff(inputs=inputs)


def _call_entry(fn):
    try:
        result = fn()
    except SystemExit as exc:
        if exc.code not in (None, 0):
            raise
        return None
    return result


def override_model(model):
    """The `model` override as the overlay should build it.

    CrewAI routes `openai/<name>` natively only when <name> is a model it knows, or when the
    LLM call itself passes base_url/api_base (the OPENAI_BASE_URL/OPENAI_API_BASE environment
    is not enough); anything else goes to LiteLLM. Without LiteLLM installed, and with a custom
    OpenAI endpoint in the environment, an `openai/<name>` that would fail is passed as the bare
    `<name>` when that routes to the native OpenAI provider (a bare name CrewAI does not know
    is inferred as OpenAI)."""
    prefix, sep, bare = model.partition("/")
    if not sep or prefix.lower() != "openai":
        return model
    if not (os.environ.get("OPENAI_BASE_URL") or os.environ.get("OPENAI_API_BASE")):
        return model
    try:
        from crewai import LLM

        if LLM._resolve_route(model, {}).native_class is not None:
            return model
        import importlib.util

        if importlib.util.find_spec("litellm") is not None:
            return model
        route = LLM._resolve_route(bare, {})
        if route.native_class is not None and route.provider == "openai":
            return bare
    except Exception:
        pass
    return model


def execute(req, channel, capture):
    """Runs one request, writing its events; returns when `finished` or `error` is written."""
    global CURRENT
    run = Run(req, channel)
    CURRENT = run
    failure = None
    try:
        root = _prepare(req)
        overlay = None
        if run.model:
            try:
                from crewai.llm_overlay import llm_overlay

                overlay = llm_overlay({"model:*": override_model(run.model)})
            except Exception:
                overlay = None
        if overlay is not None:
            with overlay:
                _run_kind(req, root, run)
        else:
            _run_kind(req, root, run)
    except BaseException as exc:  # noqa: BLE001 - everything the project raises is reported
        failure = exc
    try:
        from crewai.events.event_bus import crewai_event_bus

        crewai_event_bus.flush(timeout=10.0)
    except Exception:
        pass
    if run.completed and not run.resume_reported:
        run.report_resume(unsupported="the run never called Crew.kickoff or Flow.kickoff")
    if capture is not None:
        capture.drain()
    CURRENT = None
    if failure is not None:
        channel.send("error", **error_fields(failure, run.loading, run.cap))
        return 1
    result = _settle(run.result) if run.result is not _NOTHING else None
    text, data = result_text(result)
    channel.send("finished", output=run.t(text), json=data)
    return 0


def hello(channel):
    channel.send(
        "hello",
        pid=os.getpid(),
        pgid=os.getpgid(0),
        python=platform.python_version(),
        crewai_version=crewai_version(),
    )


# ---------------------------------------------------------------------------------------------
# The server and its forked children


def _kill_group():
    try:
        unregister_child()
        os.killpg(0, signal.SIGKILL)
    finally:
        os._exit(137)


def _start_time(pid):
    """The process's start time in clock ticks since boot (/proc/PID/stat field 22): with the pid,
    it names one process (a reused pid has another start time)."""
    with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as fh:
        return int(fh.read().rsplit(")", 1)[1].split()[19])


_REGISTERED = []


def register_child(server_pid):
    """Writes CREW_RUNNER_CHILDREN_DIR/<pid>.json naming this child and its server, so a later
    worker can kill this process group should it outlive its server (see orphans.rs). Removed at
    the child's exit; only a SIGKILLed child leaves it behind."""
    folder = os.environ.get("CREW_RUNNER_CHILDREN_DIR")
    if not folder:
        return
    try:
        pid = os.getpid()
        entry = {"pid": pid, "pgid": os.getpgid(0), "start": _start_time(pid),
                 "server_pid": server_pid, "server_start": _start_time(server_pid)}
        path = os.path.join(folder, f"{pid}.json")
        tmp = path + ".tmp"
        with open(tmp, "w", encoding="utf-8") as fh:
            json.dump(entry, fh)
        os.replace(tmp, path)
        _REGISTERED.append(path)
    except Exception:
        pass


def unregister_child():
    while _REGISTERED:
        try:
            os.unlink(_REGISTERED.pop())
        except OSError:
            pass


def child(conn, server_pid):
    """A forked child: its own process group, dies with the server or the connection."""
    code = 1
    try:
        os.setpgid(0, 0)
        set_pdeathsig()
        if os.getppid() != server_pid:
            os._exit(1)
        register_child(server_pid)
        for sig in (signal.SIGTERM, signal.SIGHUP, signal.SIGCHLD, signal.SIGQUIT):
            signal.signal(sig, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.default_int_handler)
        devnull = os.open(os.devnull, os.O_RDONLY)
        os.dup2(devnull, 0)
        os.close(devnull)

        lines = queue.Queue()

        def watch():
            buf = b""
            delivered = False
            while True:
                try:
                    data = conn.recv(65536)
                except InterruptedError:
                    continue
                except OSError:
                    data = b""
                if not data:
                    _kill_group()  # EOF: Crew Runner dropped the attempt, or died
                if not delivered:
                    buf += data
                    if b"\n" in buf:
                        lines.put(buf.split(b"\n", 1)[0])
                        delivered = True
                        buf = b""

        channel = Channel(socket_writer(conn), _kill_group)
        threading.Thread(target=watch, name="shim-eof", daemon=True).start()
        capture = OutputCapture(channel)
        capture.start()
        hello(channel)
        raw = lines.get()
        try:
            req = json.loads(raw.decode("utf-8"))
            if not isinstance(req, dict):
                raise ValueError("the request is not a JSON object")
        except Exception as exc:
            capture.drain()
            channel.send("error", **error_fields(exc, False, DEFAULT_CAP))
            code = 2
        else:
            code = execute(req, channel, capture)
        try:
            conn.shutdown(socket.SHUT_WR)
        except OSError:
            pass
    except BaseException:
        try:
            os.write(2, traceback.format_exc().encode())
        except Exception:
            pass
    finally:
        unregister_child()
        os._exit(code)


WARM_MODULES = (
    "crewai.llms.providers.openai.completion",
    "crewai.llm_overlay",
    "crewai.agents.agent_executor",
    "crewai.utilities.converter",
    "openai",
    "openai.resources",
    "openai.resources.chat.completions",
)


def serve(path):
    try:
        import crewai  # noqa: F401
        import dotenv  # noqa: F401
        import crewai.events  # noqa: F401
        from crewai.events.event_bus import crewai_event_bus  # noqa: F401
        from crewai.flow.flow import Flow  # noqa: F401
        import crewai.project  # noqa: F401
        import crewai.tools  # noqa: F401

        install_hooks()
    except BaseException as exc:  # noqa: BLE001
        sys.stdout.write(json.dumps({"ready": False, "error": f"{type(exc).__name__}: {exc}"}) + "\n")
        sys.stdout.flush()
        os._exit(3)
    # Warm what every crew touches first, so a forked child need not import it (best effort).
    # `openai.resources` alone is ~0.8 s the first LLM call would pay. Nothing here may start a
    # thread (children are forked from this process): lancedb, which a Flow's memory imports,
    # starts an event-loop thread at import and is deliberately not warmed.
    for module in WARM_MODULES:
        try:
            __import__(module)
        except Exception:
            pass

    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
    listener.bind(path)
    listener.listen(64)

    def stop(*_):
        raise SystemExit(0)

    server_pid = os.getpid()
    stdin_fd = sys.stdin.fileno() if sys.stdin is not None else None
    watched = [listener] + ([stdin_fd] if stdin_fd is not None else [])
    try:
        # Inside the try: a SIGTERM right after the ready line still removes the socket file.
        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGCHLD, signal.SIG_IGN)
        sys.stdout.write(json.dumps({
            "ready": True,
            "pid": server_pid,
            "python": platform.python_version(),
            "crewai_version": crewai_version(),
        }) + "\n")
        sys.stdout.flush()
        while True:
            ready, _, _ = select.select(watched, [], [])
            if stdin_fd is not None and stdin_fd in ready:
                if not os.read(stdin_fd, 65536):
                    break  # stdin EOF: the worker stopped or died
            if listener in ready:
                try:
                    conn, _ = listener.accept()
                except OSError:
                    continue
                pid = os.fork()
                if pid == 0:
                    listener.close()
                    child(conn, server_pid)  # never returns
                conn.close()
    except SystemExit:
        pass
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        try:
            listener.close()
            os.unlink(path)
        except OSError:
            pass
    os._exit(0)


def once(request_file):
    """Runs one request in this process, events on stdout (debugging; no fork, no EOF watch)."""
    with open(request_file, encoding="utf-8") as fh:
        req = json.load(fh)
    import crewai  # noqa: F401

    install_hooks()
    sys.stdout.flush()
    events_fd = os.dup(1)
    channel = Channel(fd_writer(events_fd), lambda: os._exit(141))
    capture = OutputCapture(channel)
    capture.start()
    hello(channel)
    code = execute(req, channel, capture)
    os._exit(code)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="shim.py", description="Crew Runner's CrewAI shim")
    sub = parser.add_subparsers(dest="command", required=True)
    p_serve = sub.add_parser("serve", help="serve requests on a Unix socket")
    p_serve.add_argument("--socket", required=True)
    p_once = sub.add_parser("once", help="run one request in-process, events on stdout")
    p_once.add_argument("--request", required=True)
    args = parser.parse_args(argv)
    if args.command == "serve":
        serve(args.socket)
    else:
        once(args.request)


if __name__ == "__main__":
    main()

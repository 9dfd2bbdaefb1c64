"""The one place where errors become HTTP answers.

A :class:`~lantai.errors.LantaiError` gets the status from :func:`lantai.errors.http_status`;
``/api/`` and ``/iiif/`` paths answer JSON (``{"error", "parameter"}``), pages an HTML page in
Chinese and English. No answer ever shows a stack trace or internal detail: a 5xx says only
what kind of failure it was. A non-open record is a :class:`~lantai.errors.RecordNotFound`
raised by the backend, so it answers exactly like a missing one.
"""

from __future__ import annotations

import logging

from flask import Flask, Response, jsonify, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from lantai.errors import LantaiError, TooManyAttempts, http_status

log = logging.getLogger(__name__)

#: status → (Chinese, English) headline.
HEADLINES: dict[int, tuple[str, str]] = {
    400: ("请求参数有误", "Bad request"),
    401: ("请先登录", "Sign-in required"),
    403: ("无权访问", "Forbidden"),
    404: ("未找到", "Not found"),
    405: ("不支持该请求方法", "Method not allowed"),
    409: ("冲突", "Conflict"),
    413: ("上传的文件过大", "Upload too large"),
    429: ("尝试过于频繁", "Too many attempts"),
    500: ("服务器内部错误", "Internal server error"),
    501: ("暂不支持", "Not supported"),
    503: ("服务暂不可用", "Service unavailable"),
}


def _headline(status: int) -> tuple[str, str]:
    return HEADLINES.get(status, HEADLINES[500] if status >= 500 else HEADLINES[400])


def _answer(status: int, message: str, parameter: str | None = None) -> Response:
    if request.path.startswith(("/api/", "/iiif/")):
        response = jsonify({"error": message, "parameter": parameter})
    else:
        zh, en = _headline(status)
        response = Response(render_template("error.html", status=status, headline_zh=zh,
                                            headline_en=en, message=message,
                                            parameter=parameter))
    response.status_code = status
    return response


def handle_lantai_error(exc: LantaiError) -> Response:
    status = http_status(exc)
    if status >= 500:  # the message may name servers or files: log it, show the kind only
        log.error("%s: %s", type(exc).__name__, exc)
        return _answer(status, _headline(status)[1])
    response = _answer(status, str(exc), getattr(exc, "param", None))
    if isinstance(exc, TooManyAttempts):
        response.headers["Retry-After"] = str(exc.retry_after)
    return response


def handle_csrf_error(exc: CSRFError) -> Response:
    return _answer(400, f"the form's security token is {exc.description.lower()}: reload the "
                        "page and try again", "csrf_token")


def handle_http_error(exc: HTTPException) -> Response:
    status = exc.code or 500
    response = _answer(status, _headline(status)[1])
    allowed = getattr(exc, "valid_methods", None)  # set on MethodNotAllowed
    if status == 405 and allowed:
        response.headers["Allow"] = ", ".join(allowed)
    return response


def handle_unexpected(exc: Exception) -> Response:
    log.exception("internal error")
    return _answer(500, _headline(500)[1])


def register_errors(app: Flask) -> None:
    app.register_error_handler(CSRFError, handle_csrf_error)
    app.register_error_handler(LantaiError, handle_lantai_error)
    app.register_error_handler(HTTPException, handle_http_error)
    app.register_error_handler(Exception, handle_unexpected)

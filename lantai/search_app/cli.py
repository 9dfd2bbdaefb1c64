"""``lantai serve``: the public web front end on waitress."""

from __future__ import annotations

from typing import Any

import click


@click.command("serve")
@click.option("--host", default=None, help="address to listen on (default: server.host)")
@click.option("--port", type=click.IntRange(1, 65535), default=None,
              help="port to listen on (default: server.port)")
@click.option("--threads", type=click.IntRange(1, 512), default=None,
              help="WSGI worker threads (default: server.threads)")
@click.pass_obj
def serve_command(obj: Any, host: str | None, port: int | None, threads: int | None) -> None:
    """Serve the public search pages and JSON API (open records only)."""
    import waitress

    from lantai.search_app import create_app

    settings = obj.settings(**{"server.host": host, "server.port": port,
                               "server.threads": threads})
    app = create_app(settings)
    click.echo(f"serving {settings.archive.name} on http://{settings.server.host}:"
               f"{settings.server.port}/", err=True)
    waitress.serve(app, host=settings.server.host, port=settings.server.port,
                   threads=settings.server.threads)

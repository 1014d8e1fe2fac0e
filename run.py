"""Serve the CRM with waitress: python run.py [--host H] [--port P]"""
import argparse
import ctypes
import ctypes.util
import os
import sys

from waitress import serve

from app import create_app, heap

M_ARENA_MAX = -8  # glibc's mallopt() parameter number (malloc.h)
DEFAULT_ARENAS = 2


def cap_malloc_arenas() -> int:
    """Cap glibc's malloc arenas before the server's threads start: by default glibc gives each thread
    that allocates concurrently an arena of its own, up to 8 per core, and memory freed in one arena is not
    reused by another — after a few large exports on different threads the process keeps hundreds of MB
    it no longer uses (bench/bench_export_rss.py). `MALLOC_ARENA_MAX` in the environment wins (glibc reads it
    itself at start-up; 0 leaves glibc's default); unset, run.py sets 2. Returns the cap set, 0 if none."""
    wanted = os.environ.get("MALLOC_ARENA_MAX")
    if wanted is not None or not sys.platform.startswith("linux"):
        return 0
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):  # not glibc (musl, ...): nothing to cap
        return 0
    return DEFAULT_ARENAS if mallopt(M_ARENA_MAX, DEFAULT_ARENAS) == 1 else 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8080)
    parser.add_argument("--threads", type=int, default=8)
    args = parser.parse_args()
    arenas = cap_malloc_arenas()
    app = create_app()
    heap.settle()  # after the app is built: full collections skip the start-up heap (app/heap.py)
    cap = f"{arenas} (run.py)" if arenas else os.environ.get("MALLOC_ARENA_MAX", "glibc's default")
    print(f"CRM serving on http://{args.host}:{args.port}/ (malloc arenas: {cap})", flush=True)
    serve(app, host=args.host, port=args.port, threads=args.threads)


if __name__ == "__main__":
    main()

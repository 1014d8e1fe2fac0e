"""Serve the CRM with waitress: python run.py [--host H] [--port P]"""
import argparse

from waitress import serve

from app import create_app, heap


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8080)
    parser.add_argument("--threads", type=int, default=8)
    args = parser.parse_args()
    app = create_app()
    heap.settle()  # after the app is built: full collections skip the start-up heap (app/heap.py)
    print(f"CRM serving on http://{args.host}:{args.port}/", flush=True)
    serve(app, host=args.host, port=args.port, threads=args.threads)


if __name__ == "__main__":
    main()

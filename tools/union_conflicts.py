"""Resolve merge conflicts in a file by keeping both sides (ours, then theirs): for prose like the README."""
import re
import sys

for path in sys.argv[1:]:
    text = open(path).read()
    text = re.sub(r"<<<<<<< [^\n]*\n(.*?)=======\n(.*?)>>>>>>> [^\n]*\n", lambda m: m.group(1) + m.group(2),
                  text, flags=re.S)
    open(path, "w").write(text)

"""ipec fmt over every .ipl of the repository: the output of fmt is a fixed
point (fmt of it is itself), and a policy that compiles compiles to the same
bytecode (--unsigned, without the source map, whose lines and columns are
those of the layout) before and after.

Usage: fmt-check.py IPEC SRC_ROOT"""
import os
import shutil
import subprocess
import sys
import tempfile

ipec, root = os.path.abspath(shutil.which(sys.argv[1])), sys.argv[2]
out = os.path.join(tempfile.mkdtemp(), "out.ipeb")
files = []
for top in ("examples", "stdlib", "test"):
    for d, _, names in os.walk(os.path.join(root, top)):
        files += [os.path.join(d, n) for n in names if n.endswith(".ipl")]
files.sort()

def run(args, data=None, cwd=None):
    return subprocess.run(args, input=data, capture_output=True, cwd=cwd)

def compile_bytes(text, cwd, extra):
    # From standard input, in the file's directory, so that relative
    # includes and digest lists resolve as they do for the file.
    r = run([ipec, "-", "--unsigned", "--strip-source-map", "-o", out]
            + extra, text, cwd)
    return open(out, "rb").read() if r.returncode == 0 else None

failures, formatted, compared = [], 0, 0
for f in files:
    original = open(f, "rb").read()
    first = run([ipec, "fmt", f])
    if first.returncode != 0:
        # Inputs with syntax errors: fmt must refuse them and print nothing.
        if first.stdout:
            failures.append(f + ": output despite errors")
        continue
    formatted += 1
    second = run([ipec, "fmt", "-"], first.stdout)
    if second.returncode != 0 or second.stdout != first.stdout:
        failures.append(f + ": not idempotent")
        continue
    d = os.path.dirname(f)
    extra = ["-I", os.path.join(d, "Inputs", "inc", "sys"),
             "-I", os.path.join(d, "Inputs", "sys")]
    before = compile_bytes(original, d, extra)
    if before is None:
        continue  # an include, or a test of an error
    compared += 1
    if compile_bytes(first.stdout, d, extra) != before:
        failures.append(f + ": compiles differently once formatted")

for msg in failures:
    print("FAIL: " + msg)
print("formatted %d, idempotent %d, same bytecode %d of %d files"
      % (formatted, formatted - len(failures), compared, len(files)))
sys.exit(1 if failures else 0)

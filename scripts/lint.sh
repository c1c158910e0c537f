#!/bin/sh
# make lint: the module graph (scripts/check_modules.py), clang-format (check only), cppcheck and
# clang-tidy over the project's own code. Any finding fails it.
# LINT_BUILD: the build tree whose compile_commands.json clang-tidy reads (default build);
# LINT_JOBS: clang-tidy processes at once (default: the cores); LINT_TIDY=0 leaves clang-tidy out.
set -eu
cd "$(dirname "$0")/.."
files=$(git ls-files 'src/*.cpp' 'src/*.hpp' 'include/*.hpp' 'tools/*.cpp' 'tools/*.hpp' 'tests/*.cpp' 'bench/*.cpp')
status=0
echo "module graph:"
python3 scripts/check_modules.py || status=1
echo "clang-format:"
clang-format --dry-run -Werror $files || status=1
echo "cppcheck:"
cppcheck --quiet --error-exitcode=1 --enable=warning,performance,portability --std=c++17 --inline-suppr \
  --suppress=missingIncludeSystem --suppress=cppcheckError -I include src tools || status=1
# clang-tidy: every translation unit of the compilation database that is a file of this repository
# (src, tools, tests, bench), LINT_JOBS at a time; the checks and the header filter are in
# .clang-tidy, and a warning counts as an error. About 9 min of CPU for the whole tree (119 units), most of it
# the static analyzer (see .clang-tidy for what made it 20 s a file before).
if [ "${LINT_TIDY:-1}" != 0 ]; then
  echo "clang-tidy:"
  build=${LINT_BUILD:-build}
  if [ ! -f "$build/compile_commands.json" ]; then
    echo "lint: no $build/compile_commands.json: configure first (make configure) or set LINT_TIDY=0" >&2
    exit 1
  fi
  units=$(git ls-files '*.cpp' | python3 -c '
import json, os, sys
mine = set(os.path.abspath(p) for p in sys.stdin.read().split())
db = json.load(open(sys.argv[1]))
seen = []
for e in db:
    f = os.path.abspath(os.path.join(e["directory"], e["file"]))
    if f in mine and f not in seen:
        seen.append(f)
print("\n".join(seen))' "$build/compile_commands.json")
  if [ -z "$units" ]; then
    echo "lint: $build/compile_commands.json names none of this repository's files" >&2
    exit 1
  fi
  echo "$units" | xargs -P "${LINT_JOBS:-$(nproc)}" -n 1 sh -c '
    out=$(clang-tidy -p "$1" --quiet --warnings-as-errors="*" "$2" 2>&1) && exit 0
    printf "%s\n" "$out" | grep -v "warnings\{0,1\} generated\.$" >&2
    exit 1' sh "$build" || status=1
fi
exit $status

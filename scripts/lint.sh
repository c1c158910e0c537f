#!/bin/sh
# make lint: the module graph (scripts/check_modules.py), clang-format (check only), cppcheck and
# clang-tidy over the project's own code.
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
# clang-tidy (clang-analyzer, bugprone, performance) takes about 20 s of CPU a file here, and the
# tree is not clean under it yet: CI runs `make lint LINT_TIDY=0` (module graph, clang-format,
# cppcheck); run it whole before a release.
if [ "${LINT_TIDY:-1}" != 0 ] && [ -f build/compile_commands.json ]; then
  echo "clang-tidy:"
  clang-tidy -p build --quiet $(git ls-files 'src/*.cpp') 2>/dev/null | grep -E "warning:|error:" && status=1
fi
exit $status

"""The architecture, checked on the source tree: no include cycle among the
product modules, no storage library named outside its backend folder, no
backend header reached from outside the store, every folder README lists
the folder's files, and no tracked file points outside the repository.
Each check also runs on a small planted tree, so it is seen to refuse."""
import os
import re
import shutil
import subprocess
import tempfile
import unittest

import harness

STORE = "auth_service/store"
# The product folders; every subfolder of STORE is a backend and a product
# folder too.
FOLDERS = ("common", "auth_service", STORE, "resource_service", "tools")

INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)
# What names a storage library: SQLite's API and constants, libpq's
# functions, types and header.
LIBRARY = re.compile(r"\b(sqlite3\w*|SQLITE_\w+|PQ[a-z]\w*|PG(?:conn|result)"
                     r"|libpq-fe)\b")
COMMENT = re.compile(r"/\*.*?\*/|//[^\n]*", re.S)
# Pointers to notes that live outside the repository. Written in pieces so
# this file does not match itself.
OUTSIDE = [re.compile(p) for p in (
    r"SP" r"EC\.md", r"STY" r"LE\.md", r"\bSP" r"EC\b",
    r"(?i)team's shared" r" folder", r"shared/" r"SP" r"EC")]


def backends(root):
    store = os.path.join(root, STORE)
    return sorted(f"{STORE}/{d}" for d in os.listdir(store)
                  if os.path.isdir(os.path.join(store, d)))


def folders(root):
    return [*FOLDERS, *backends(root)]


def sources(root, folder):
    path = os.path.join(root, folder)
    return sorted(f for f in os.listdir(path)
                  if f.endswith((".c", ".h"))
                  and os.path.isfile(os.path.join(path, f)))


def read(root, rel):
    with open(os.path.join(root, rel), encoding="utf-8",
              errors="replace") as f:
        return f.read()


def include_graph(root):
    """{(folder, module): {(folder, module), ...}}, a module being a file
    name without .c/.h. An included header resolves to its own folder
    first, else to the one product folder that has it. Returns the graph
    and the includes that resolve to none or to several."""
    dirs = folders(root)
    headers = {}
    for d in dirs:
        for f in sources(root, d):
            if f.endswith(".h"):
                headers.setdefault(f, []).append(d)
    graph, problems = {}, []
    for d in dirs:
        for f in sources(root, d):
            node = (d, f[:-2])
            edges = graph.setdefault(node, set())
            for inc in INCLUDE.findall(read(root, f"{d}/{f}")):
                name = os.path.basename(inc)
                homes = headers.get(name, [])
                if d in homes:
                    home = d
                elif len(homes) == 1:
                    home = homes[0]
                else:
                    problems.append(f"{d}/{f}: #include \"{inc}\": "
                                    f"{'no' if not homes else 'several'} "
                                    "such header in the product folders")
                    continue
                target = (home, name[:-2])
                if target != node:
                    edges.add(target)
    return graph, problems


def find_cycle(graph):
    """One include cycle as a list of nodes (first == last), or None."""
    state, stack = {}, []

    def visit(node):
        state[node] = "open"
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == "open":
                return stack[stack.index(nxt):] + [nxt]
            if nxt not in state:
                found = visit(nxt)
                if found:
                    return found
        stack.pop()
        state[node] = "done"
        return None

    for node in sorted(graph):
        if node not in state:
            found = visit(node)
            if found:
                return found
    return None


def library_names(root):
    """Code (comments left out) outside a backend folder that names a
    storage library: [(file, identifier)]."""
    inside = tuple(b + "/" for b in backends(root))
    found = []
    for d in folders(root):
        if (d + "/").startswith(inside):
            continue
        for f in sources(root, d):
            code = COMMENT.sub(" ", read(root, f"{d}/{f}"))
            for m in LIBRARY.finditer(code):
                found.append((f"{d}/{f}", m.group(1)))
    return found


def backend_includes(root):
    """Includes of a backend's header from outside auth_service/store/
    (the store alone chooses and opens a backend): [(file, header)]."""
    private = {h for b in backends(root) for h in sources(root, b)
               if h.endswith(".h")}
    found = []
    for d in folders(root):
        if d == STORE or d.startswith(STORE + "/"):
            continue
        for f in sources(root, d):
            for inc in INCLUDE.findall(read(root, f"{d}/{f}")):
                if os.path.basename(inc) in private:
                    found.append((f"{d}/{f}", inc))
    return found


def unlisted(root):
    """Files of a product folder its README.md does not name (or the
    folder has no README): [(readme, file)]."""
    found = []
    for d in folders(root):
        readme = f"{d}/README.md"
        if not os.path.isfile(os.path.join(root, readme)):
            found.append((readme, "(missing)"))
            continue
        text = read(root, readme)
        for f in sources(root, d):
            # A whole name: "store.h" is not listed by "sqlite_store.h".
            if not re.search(rf"(?<![\w.-]){re.escape(f)}(?![\w])", text):
                found.append((readme, f))
    return found


def outside_pointers(root, files):
    """[(file, text)] for files that point to notes outside the tree."""
    found = []
    for rel in files:
        path = os.path.join(root, rel)
        if not os.path.isfile(path):
            continue  # deleted in the work tree, not yet committed
        with open(path, "rb") as f:
            text = f.read().decode("utf-8", errors="replace")
        for p in OUTSIDE:
            m = p.search(text)
            if m:
                found.append((rel, m.group(0)))
    return found


def tracked(root):
    r = subprocess.run(["git", "-C", root, "ls-files", "-z"],
                       capture_output=True, text=True, check=True)
    return [f for f in r.stdout.split("\0") if f]


class Planted(unittest.TestCase):
    """Each check on a small tree, clean and then with one violation."""

    def setUp(self):
        self.root = tempfile.mkdtemp(prefix="layout-")
        self.addCleanup(shutil.rmtree, self.root, ignore_errors=True)
        self.write("common/err.h", "")
        self.write("common/jws_key.h", '#include "err.h"\n')
        self.write("common/jwk.c", '#include "jwk.h"\n')
        self.write("common/jwk.h", '#include "jws_key.h"\n')
        self.write(f"{STORE}/store.h", '#include "err.h"\n')
        self.write(f"{STORE}/store_open.c",
                   '#include "store.h"\n#include "lite_store.h"\n')
        self.write(f"{STORE}/lite/lite_store.h", '#include "store.h"\n')
        self.write(f"{STORE}/lite/lite_store.c",
                   '#include <sqlite3.h>\n#include "lite_store.h"\n'
                   "static sqlite3 *db;\n")
        self.write("auth_service/routes.h", "")
        self.write("resource_service/routes.h", "")
        self.write("tools/admin.c", '#include "store.h"\n'
                   "/* never sqlite3_open here */\n")
        for d in folders(self.root):
            names = " ".join(f"`{f}`" for f in sources(self.root, d))
            self.write(f"{d}/README.md", f"files: {names}\n")

    def write(self, rel, text):
        path = os.path.join(self.root, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)

    def test_clean_tree_passes(self):
        graph, problems = include_graph(self.root)
        self.assertEqual(problems, [])
        self.assertIn(("common", "jws_key"), graph[("common", "jwk")])
        self.assertIsNone(find_cycle(graph))
        self.assertEqual(library_names(self.root), [])
        self.assertEqual(backend_includes(self.root), [])
        self.assertEqual(unlisted(self.root), [])
        self.assertEqual(outside_pointers(self.root, ["common/README.md"]),
                         [])

    def test_cycle(self):
        self.write("common/jws_key.h", '#include "jwk.h"\n')
        cycle = find_cycle(include_graph(self.root)[0])
        self.assertEqual(cycle[0], cycle[-1])
        self.assertIn(("common", "jwk"), cycle)

    def test_cycle_across_folders(self):
        self.write(f"{STORE}/store.c", '#include "admin.h"\n')
        self.write("tools/admin.h", "")
        self.assertIsNotNone(find_cycle(include_graph(self.root)[0]))

    def test_unresolvable_include(self):
        self.write("tools/admin.c", '#include "routes.h"\n')
        self.assertTrue(include_graph(self.root)[1])

    def test_library_named_outside_its_backend(self):
        self.write("auth_service/session.c", "int n = PQntuples(r);\n")
        self.assertEqual(library_names(self.root),
                         [("auth_service/session.c", "PQntuples")])
        self.write("auth_service/session.c", "#include <sqlite3.h>\n")
        self.assertTrue(library_names(self.root))

    def test_backend_header_outside_the_store(self):
        self.write("tools/admin.c", '#include "lite_store.h"\n')
        self.assertEqual(backend_includes(self.root),
                         [("tools/admin.c", "lite_store.h")])

    def test_file_missing_from_readme(self):
        self.write("tools/new_tool.c", "")
        self.assertEqual(unlisted(self.root),
                         [("tools/README.md", "new_tool.c")])
        # A longer name that contains it does not list it.
        self.write("tools/store.h", "")
        self.write("tools/README.md", "`new_tool.c` `admin.c` `x_store.h`")
        self.assertEqual(unlisted(self.root),
                         [("tools/README.md", "store.h")])

    def test_pointer_outside_the_tree(self):
        for text in ("the contract: " + "SP" + "EC.md", "SP" + "EC: x",
                     "code style: " + "STY" + "LE.md",
                     "in the Team's shared" + " folder"):
            self.write("common/README.md", text + "\n")
            self.assertTrue(outside_pointers(self.root, ["common/README.md"]),
                            text)
        self.write("common/README.md", "AF_UNSPEC is fine\n")
        self.assertFalse(outside_pointers(self.root, ["common/README.md"]))


class Tree(unittest.TestCase):
    """The checks on this source tree."""
    root = harness.source()

    def test_no_include_cycle(self):
        graph, problems = include_graph(self.root)
        self.assertEqual(problems, [])
        self.assertGreater(len(graph), 50)
        cycle = find_cycle(graph)
        self.assertIsNone(cycle, "include cycle: " + " -> ".join(
            f"{d}/{m}" for d, m in cycle or ()))

    def test_storage_library_named_only_in_its_backend(self):
        self.assertTrue(backends(self.root))
        self.assertEqual(library_names(self.root), [])

    def test_backend_headers_stay_in_the_store(self):
        self.assertEqual(backend_includes(self.root), [])

    def test_every_folder_readme_lists_its_files(self):
        self.assertEqual(unlisted(self.root), [])

    def test_nothing_points_outside_the_repository(self):
        files = tracked(self.root)
        self.assertIn("README.md", files)
        self.assertEqual(outside_pointers(self.root, files), [])


if __name__ == "__main__":
    unittest.main(verbosity=2)

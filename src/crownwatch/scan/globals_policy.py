"""Allow and deny lists for the globals a pickle resolves when it is loaded.

Every ``GLOBAL`` / ``STACK_GLOBAL`` / ``INST`` opcode makes the unpickler import a module and
fetch an attribute; ``REDUCE`` / ``INST`` / ``OBJ`` then call it. What a pickle can do is
therefore bounded by the callables it names. This module judges a ``module.name`` pair:

* **deny**: known dangerous, with the reason (command or code execution, file or network
  access, nested unpickling, attribute indirection that reaches anything). -> malicious.
* **allow**: known-safe constructors and rebuild helpers of the common ML ecosystems
  (builtins containers, collections, datetime, numpy, torch, scikit-learn, scipy.sparse,
  pandas, joblib, xgboost, lightgbm). Rules are exact names or "class name inside this
  package" patterns; the deny layer always wins, so ``torch.hub.load`` stays dangerous even
  though torch classes are allowed.
* **unknown**: anything else. Unknown callables are suspicious; an unknown *class* from the
  user's own code that is only rebuilt (NEWOBJ) and given state (BUILD) is the everyday
  ``torch.save(model)`` case and is reported at info level by the pickle analysis.

Every entry added after the first release names its evidence (an advisory, another scanner's
list, or a real artifact that was misjudged) next to it. A few exact names are
**allowed before the deny layer** (``SAFE_OVERRIDES``): a safe helper inside a package whose
other members are denied, such as ``torch.jit._pickle``'s TorchScript constant rebuilders or
``logging.getLogger`` (how ``Logger`` objects pickle themselves).

Names are normalised first: Python 2 and C-accelerator aliases (``__builtin__``, ``posix``,
``nt``, ``_operator``, ``_codecs``, ``_pickle``, ``_io`` ...) map to the module they stand
for, the way ``pickle``'s ``find_class`` and the C implementations resolve them. Dotted names
(protocol 4 ``STACK_GLOBAL`` walks attributes) are checked segment by segment, because
``torch.serialization`` + ``os.system`` reaches ``os.system`` through a module attribute.
"""

from __future__ import annotations

import re
import sys
from functools import lru_cache

# --- normalisation ---------------------------------------------------------------------------

MODULE_ALIASES = {
    "__builtin__": "builtins",
    "__builtins__": "builtins",
    "exceptions": "builtins",
    "copy_reg": "copyreg",
    "_pickle": "pickle",
    "cPickle": "pickle",
    "_compat_pickle": "pickle",
    "_operator": "operator",
    "_codecs": "codecs",
    "_io": "io",
    "_pyio": "io",
    "posix": "os",
    "nt": "os",
    "posixpath": "os.path",
    "ntpath": "os.path",
    "genericpath": "os.path",
    "macpath": "os.path",
    "_functools": "functools",
    "_collections": "collections",
    "UserDict": "collections",
    "_socket": "socket",
    "_ssl": "ssl",
    "_thread": "threading",
    "thread": "threading",
    "_threading_local": "threading",
    "dummy_thread": "threading",
    "commands": "subprocess",
    "_posixsubprocess": "subprocess",
    "_winapi": "subprocess",
    "popen2": "subprocess",
    "urllib2": "urllib.request",
    "httplib": "http.client",
    "urlparse": "urllib.parse",
    "_ctypes": "ctypes",
    "_asyncio": "asyncio",
    "_multiprocessing": "multiprocessing",
    "_imp": "importlib",
    "imp": "importlib",
    "_frozen_importlib": "importlib",
    "_frozen_importlib_external": "importlib",
    "_bootstrap": "importlib",
    "_marshal": "marshal",
    "__main__.__builtins__": "builtins",
    "_signal": "signal",
    "_sqlite3": "sqlite3",
    "_lzma": "lzma",
    "_bz2": "bz2",
    "_datetime": "datetime",
    "_pydatetime": "datetime",
    "_decimal": "decimal",
    "_pydecimal": "decimal",
    "_sre": "re",
    "sre_compile": "re",
    "_string": "string",
    "cStringIO": "io",
    "StringIO": "io",
    "_weakref": "weakref",
    "Tkinter": "tkinter",
    "_tkinter": "tkinter",
    "_osx_support": "os",
    "_aix_support": "os",
    "_pty": "pty",
    "pty": "pty",
}

# pickle's _compat_pickle.NAME_MAPPING entries that move a name to a riskier module.
NAME_ALIASES = {
    ("__builtin__", "reduce"): ("functools", "reduce"),
    ("__builtin__", "intern"): ("sys", "intern"),
    ("__builtin__", "xrange"): ("builtins", "range"),
    ("__builtin__", "unicode"): ("builtins", "str"),
    ("__builtin__", "basestring"): ("builtins", "str"),
    ("__builtin__", "long"): ("builtins", "int"),
    ("__builtin__", "raw_input"): ("builtins", "input"),
    ("__builtin__", "unichr"): ("builtins", "chr"),
    ("__builtin__", "execfile"): ("builtins", "exec"),
    ("__builtin__", "apply"): ("builtins", "apply"),
    ("__builtin__", "file"): ("builtins", "open"),
    ("itertools", "izip"): ("builtins", "zip"),
    ("itertools", "imap"): ("builtins", "map"),
    ("itertools", "ifilter"): ("builtins", "filter"),
    ("UserDict", "UserDict"): ("collections", "UserDict"),
    ("os", "getcwdu"): ("os", "getcwd"),
}


def normalise(module: str, name: str) -> tuple[str, str]:
    """Map alias modules to what they resolve to; fold dotted module prefixes."""
    if (module, name) in NAME_ALIASES:
        return NAME_ALIASES[(module, name)]
    parts = module.split(".")
    head = MODULE_ALIASES.get(parts[0])
    if head is not None:
        module = ".".join([head, *parts[1:]])
    elif module in MODULE_ALIASES:
        module = MODULE_ALIASES[module]
    return module, name


# --- deny list -------------------------------------------------------------------------------

EXEC = "critical"
HIGH = "high"


class Verdict:
    __slots__ = ("action", "severity", "reason")

    def __init__(self, action: str, severity: str = "info", reason: str = ""):
        self.action = action  # deny | allow | unknown
        self.severity = severity
        self.reason = reason


# module prefix -> (severity, reason); applies to every attribute of the module and submodules
DENY_MODULES: dict[str, tuple[str, str]] = {
    "os": (
        EXEC,
        "operating-system interface: runs commands (system, popen, exec*, spawn*), writes and deletes files, changes the environment",
    ),
    "subprocess": (EXEC, "starts arbitrary processes"),
    "pty": (EXEC, "pty.spawn runs a program attached to a terminal"),
    "sys": (HIGH, "interpreter internals: sys.modules, settrace, setprofile, path hooks"),
    "runpy": (EXEC, "runs Python modules and files (run_module, run_path)"),
    "code": (
        EXEC,
        "interactive interpreter: InteractiveInterpreter.runsource / runcode execute source",
    ),
    "codeop": (EXEC, "compiles Python source"),
    "cProfile": (EXEC, "cProfile.run / runctx execute a source string"),
    "profile": (EXEC, "profile.run / runctx execute a source string"),
    "timeit": (EXEC, "timeit.timeit / repeat / Timer compile and execute a source string"),
    "trace": (EXEC, "Trace.run / runctx execute a source string"),
    "pdb": (EXEC, "debugger: run / runeval / runcall execute code"),
    "bdb": (EXEC, "debugger base: Bdb.run / runeval / runcall execute code"),
    "doctest": (EXEC, "doctest.debug_script / run_docstring_examples execute source"),
    "idlelib": (EXEC, "IDLE internals include eval/exec gadgets (run, pyshell, calltip, debugger)"),
    "lib2to3": (HIGH, "lib2to3 drivers load grammar pickles and refactor files"),
    "distutils": (EXEC, "distutils spawns compilers and writes files (spawn, file_util, ...)"),
    "setuptools": (EXEC, "setuptools runs builds and commands"),
    "pip": (EXEC, "pip.main / pip._internal install arbitrary packages (code runs at install)"),
    "ensurepip": (EXEC, "runs pip"),
    "venv": (EXEC, "venv.create runs ensurepip / subprocesses"),
    "importlib": (EXEC, "imports arbitrary modules (import_module, __import__, loaders)"),
    "pkgutil": (EXEC, "imports modules (resolve_name, ImpImporter)"),
    "zipimport": (EXEC, "imports code from zip files"),
    "ctypes": (EXEC, "calls native functions and writes memory"),
    "cffi": (EXEC, "calls native functions"),
    "multiprocessing": (EXEC, "starts processes running callables"),
    "concurrent": (EXEC, "executors run callables"),
    "threading": (HIGH, "threads run callables"),
    "asyncio": (
        EXEC,
        "asyncio.subprocess / create_subprocess_* start processes; event loops run callbacks",
    ),
    "signal": (HIGH, "installs signal handlers"),
    "atexit": (HIGH, "registers callables to run at exit"),
    "sched": (HIGH, "schedules callables"),
    "gc": (HIGH, "reaches every live object (get_objects, get_referrers)"),
    "inspect": (HIGH, "reaches frames and globals of live code"),
    "types.FunctionType": (EXEC, "builds a function from a code object"),
    "types.LambdaType": (EXEC, "builds a function from a code object"),
    "types.CodeType": (EXEC, "builds a code object"),
    "types.MethodType": (EXEC, "binds callables as methods (gadget chains)"),
    "types.ModuleType": (HIGH, "creates modules"),
    "types.new_class": (EXEC, "creates classes by running a callback"),
    "types.prepare_class": (HIGH, "class creation machinery"),
    "types.coroutine": (HIGH, "wraps callables"),
    "marshal": (EXEC, "marshal.loads builds code objects"),
    "pickle": (HIGH, "nested unpickling (loads/load/Unpickler) hides a second payload"),
    "dill": (EXEC, "dill unpickles code objects"),
    "cloudpickle": (EXEC, "cloudpickle unpickles code objects"),
    "shelve": (HIGH, "shelve opens pickle databases"),
    "joblib.numpy_pickle.load": (HIGH, "nested joblib load"),
    "socket": (HIGH, "network access (exfiltration, reverse shells)"),
    "ssl": (
        HIGH,
        "network access: ssl.get_server_certificate / create_connection reach a remote host (exfiltration by hostname)",
    ),
    "http": (HIGH, "HTTP client and server (exfiltration, payload download)"),
    "urllib": (HIGH, "URL fetching (payload download, exfiltration)"),
    "urllib3": (HIGH, "HTTP client (exfiltration, payload download)"),
    "requests": (HIGH, "HTTP client (exfiltration, payload download)"),
    "httpx": (HIGH, "HTTP client (exfiltration, payload download)"),
    "aiohttp": (HIGH, "HTTP client (exfiltration, payload download)"),
    "ftplib": (HIGH, "network access"),
    "smtplib": (HIGH, "sends e-mail (exfiltration)"),
    "poplib": (HIGH, "network access"),
    "imaplib": (HIGH, "network access"),
    "nntplib": (HIGH, "network access"),
    "telnetlib": (HIGH, "network access"),
    "xmlrpc": (HIGH, "remote procedure calls"),
    "socketserver": (HIGH, "starts network servers"),
    "webbrowser": (EXEC, "webbrowser.open runs a browser command / opens attacker URLs"),
    "antigravity": (HIGH, "importing it opens a web browser"),
    "shutil": (HIGH, "copies, moves and deletes files and trees (rmtree), unpacks archives"),
    "tempfile": (HIGH, "creates files"),
    "io": (HIGH, "io.open / FileIO read and write arbitrary files"),
    "fileinput": (HIGH, "reads arbitrary files"),
    "linecache": (HIGH, "reads arbitrary files"),
    "glob": (HIGH, "lists the file system"),
    "pathlib.Path.write_text": (HIGH, "writes files"),
    "mmap": (HIGH, "maps files into memory"),
    "fcntl": (HIGH, "file-descriptor control"),
    "resource": (HIGH, "changes process limits"),
    "pydoc": (EXEC, "pydoc.pipepager / tempfilepager run a shell command; locate imports modules"),
    "sqlite3": (HIGH, "opens database files (can write arbitrary files)"),
    "dbm": (HIGH, "opens database files"),
    "zipfile": (HIGH, "reads and extracts archives"),
    "tarfile": (HIGH, "reads and extracts archives (path traversal)"),
    "logging.config": (EXEC, "logging.config.listen / dictConfig instantiate arbitrary callables"),
    "tkinter": (HIGH, "GUI toolkit with Tcl eval"),
    "turtle": (HIGH, "GUI toolkit with Tcl eval"),
    "yaml": (EXEC, "yaml.load / unsafe_load build arbitrary Python objects"),
    "jinja2": (EXEC, "template rendering with sandbox escapes"),
    "mako": (EXEC, "templates compile to Python"),
    "numpy.f2py": (EXEC, "numpy.f2py compiles and runs Fortran/C build commands"),
    "numpy.distutils": (EXEC, "numpy.distutils spawns compilers"),
    "numpy.testing": (EXEC, "numpy.testing helpers run code (e.g. runstring executes a string)"),
    "numpy.ctypeslib": (EXEC, "loads native libraries"),
    "numpy.lib.npyio": (HIGH, "numpy file I/O (load with allow_pickle, save)"),
    "numpy.lib._npyio_impl": (HIGH, "numpy file I/O (load with allow_pickle, save)"),
    "numpy.lib._datasource": (HIGH, "opens local files and URLs"),
    "numpy.lib.format.read_array": (HIGH, "reads arrays, unpickling object arrays"),
    "numpy.lib.format.open_memmap": (HIGH, "maps arbitrary files"),
    "numpy.load": (HIGH, "np.load can unpickle (allow_pickle) and read arbitrary files"),
    "numpy.save": (HIGH, "writes files"),
    "numpy.savez": (HIGH, "writes files"),
    "numpy.savez_compressed": (HIGH, "writes files"),
    "numpy.savetxt": (HIGH, "writes files"),
    "numpy.loadtxt": (HIGH, "reads arbitrary files"),
    "numpy.genfromtxt": (HIGH, "reads files and URLs"),
    "numpy.fromfile": (HIGH, "reads arbitrary files"),
    "numpy.memmap": (HIGH, "maps arbitrary files"),
    "numpy.DataSource": (HIGH, "opens local files and URLs"),
    "numpy.ndarray.tofile": (HIGH, "writes files"),
    "torch.hub": (EXEC, "torch.hub.load downloads and runs hubconf.py code"),
    "torch.load": (HIGH, "nested torch.load unpickles a second payload"),
    "torch.serialization.load": (HIGH, "nested torch.load unpickles a second payload"),
    "torch.serialization._load": (HIGH, "nested torch.load unpickles a second payload"),
    "torch.save": (HIGH, "writes files"),
    "torch.serialization.save": (HIGH, "writes files"),
    "torch.jit.load": (EXEC, "loads TorchScript code"),
    "torch.jit._serialization": (EXEC, "loads TorchScript code"),
    "torch.package": (EXEC, "torch.package imports code stored in a package"),
    "torch.utils.cpp_extension": (EXEC, "compiles and loads native extensions"),
    "torch.ops": (HIGH, "calls registered native operators (custom op libraries)"),
    "torch._ops": (HIGH, "calls registered native operators"),
    "torch.library": (HIGH, "registers native operators"),
    "torch.classes": (HIGH, "loads custom TorchScript classes"),
    "torch._C._jit": (EXEC, "TorchScript compilation and import"),
    "torch._inductor": (EXEC, "compiles and loads generated code"),
    "torch._dynamo": (EXEC, "compiles and runs Python bytecode"),
    "torch.compile": (EXEC, "compiles and runs code"),
    "torch.distributed": (EXEC, "RPC runs remote callables; starts network services"),
    "torch.multiprocessing": (EXEC, "starts processes"),
    "torch.testing": (EXEC, "test helpers run code"),
    "torch.fx.graph_module._forward_from_src": (
        EXEC,
        "exec()s Python source stored in the checkpoint",
    ),
    "torch.fx.graph_module.reduce_graph_module": (
        EXEC,
        "exec()s Python source stored in the checkpoint",
    ),
    "torch.fx.graph_module.reduce_package_graph_module": (
        EXEC,
        "exec()s Python source stored in the checkpoint",
    ),
    "torch.fx.graph_module.reduce_deploy_graph_module": (
        EXEC,
        "exec()s Python source stored in the checkpoint",
    ),
    "torch.fx.graph_module._exec_with_source": (EXEC, "exec()s Python source"),
    "torch.utils.data.datapipes": (HIGH, "datapipes open files, URLs and run callables"),
    "torch.utils.model_zoo": (HIGH, "downloads files"),
    "torch.utils.collect_env": (EXEC, "runs shell commands"),
    "torch.backends.cudnn.rnn": (HIGH, "unexpected native call"),
    "pandas.read_pickle": (HIGH, "nested unpickling"),
    "pandas.io": (HIGH, "pandas readers and writers open files and URLs (read_pickle unpickles)"),
    "pandas.eval": (EXEC, "evaluates expressions"),
    "pandas.core.computation": (EXEC, "evaluates expressions"),
    "keras.utils.get_file": (HIGH, "downloads files"),
    "keras.src.utils.file_utils": (HIGH, "downloads and extracts files"),
    "keras.config.enable_unsafe_deserialization": (EXEC, "turns off Keras safe mode"),
    "keras.src.saving.serialization_lib.enable_unsafe_deserialization": (
        EXEC,
        "turns off Keras safe mode",
    ),
    "tensorflow.io": (HIGH, "reads and writes files"),
    "tensorflow.compat.v1.io": (HIGH, "reads and writes files"),
    "tensorflow.py_function": (EXEC, "runs Python functions"),
    "tensorflow.numpy_function": (EXEC, "runs Python functions"),
    "builtins.eval": (EXEC, "evaluates a Python expression"),
    "builtins.exec": (EXEC, "executes Python code"),
    "builtins.compile": (EXEC, "compiles Python code"),
    "builtins.execfile": (EXEC, "executes a Python file"),
    "builtins.__import__": (EXEC, "imports an arbitrary module"),
    "builtins.open": (HIGH, "opens arbitrary files for reading or writing"),
    "builtins.file": (HIGH, "opens arbitrary files"),
    "builtins.getattr": (
        EXEC,
        "attribute indirection: reaches any attribute by name (getattr(os, 'system'))",
    ),
    "builtins.setattr": (HIGH, "sets attributes on modules or classes (loader tampering)"),
    "builtins.delattr": (HIGH, "deletes attributes on modules or classes"),
    "builtins.globals": (EXEC, "exposes module globals"),
    "builtins.locals": (HIGH, "exposes local variables"),
    "builtins.vars": (HIGH, "exposes namespaces"),
    "builtins.input": (HIGH, "reads from the terminal"),
    "builtins.breakpoint": (EXEC, "starts the debugger"),
    "builtins.apply": (EXEC, "calls an arbitrary callable"),
    "builtins.reload": (HIGH, "reloads modules"),
    "builtins.help": (HIGH, "starts the help pager (runs a pager command)"),
    "builtins.exit": (HIGH, "terminates the process"),
    "builtins.quit": (HIGH, "terminates the process"),
    "builtins.print": (HIGH, "writes to stdout (rarely in real artifacts)"),
    "builtins.memoryview": (HIGH, "raw memory access"),
    "builtins.super": (HIGH, "attribute indirection"),
    "builtins.classmethod": (HIGH, "descriptor construction used in gadget chains"),
    "builtins.staticmethod": (HIGH, "descriptor construction used in gadget chains"),
    "builtins.property": (HIGH, "descriptor construction used in gadget chains"),
    "builtins.map": (HIGH, "calls a callable over an iterable (gadget chain building block)"),
    "builtins.filter": (HIGH, "calls a callable over an iterable (gadget chain building block)"),
    "builtins.sorted": (HIGH, "calls a key callable (gadget chain building block)"),
    "builtins.max": (HIGH, "calls a key callable (gadget chain building block)"),
    "builtins.min": (HIGH, "calls a key callable (gadget chain building block)"),
    "builtins.iter": (HIGH, "calls a callable until a sentinel (gadget chain building block)"),
    "builtins.next": (HIGH, "drives an iterator (gadget chain building block)"),
    "builtins.dir": (HIGH, "introspection"),
    "builtins.__build_class__": (EXEC, "creates classes by running a function body"),
    "operator.attrgetter": (
        EXEC,
        "attribute indirection: attrgetter('system')(os) reaches any attribute",
    ),
    "operator.methodcaller": (EXEC, "calls any method by name: methodcaller('system', cmd)(os)"),
    "operator.itemgetter": (HIGH, "item indirection used in gadget chains"),
    "operator.call": (EXEC, "calls an arbitrary callable"),
    "operator.getitem": (HIGH, "item indirection used in gadget chains"),
    "operator.setitem": (HIGH, "writes into containers such as os.environ or sys.modules"),
    "operator.delitem": (HIGH, "deletes from containers such as sys.modules"),
    "operator": (HIGH, "operator functions compose gadget chains"),
    "functools.reduce": (EXEC, "calls a callable repeatedly (gadget chain building block)"),
    "functools.singledispatch": (HIGH, "wraps callables"),
    "functools.lru_cache": (HIGH, "wraps callables"),
    "functools.cached_property": (HIGH, "wraps callables"),
    "functools.wraps": (HIGH, "wraps callables"),
    "functools.update_wrapper": (HIGH, "rewrites function attributes"),
    "itertools": (
        HIGH,
        "itertools.starmap/... call callables lazily (gadget chain building block)",
    ),
    "copyreg.add_extension": (HIGH, "changes the pickle extension registry"),
    "copyreg.pickle": (HIGH, "changes pickle reducers"),
    "codecs.open": (HIGH, "opens arbitrary files"),
    "codecs.lookup": (HIGH, "codec indirection"),
    "collections.namedtuple": (HIGH, "builds classes from strings at load time"),
    "weakref.finalize": (HIGH, "registers callables to run later"),
    "contextlib": (HIGH, "context managers run callables (ExitStack.callback)"),
    "email": (HIGH, "message sending helpers"),
    "platform": (HIGH, "platform helpers run commands (popen in old versions)"),
    "uuid._popen": (EXEC, "runs commands"),
    "uuid._get_command_stdout": (EXEC, "runs commands"),
    "pandas.ExcelWriter": (HIGH, "writes files"),
    "pandas.ExcelFile": (HIGH, "reads files"),
    "pandas.HDFStore": (HIGH, "opens HDF5 files"),
    "pandas.io.pytables.HDFStore": (HIGH, "opens HDF5 files"),
    "pyarrow.lib.OSFile": (HIGH, "opens files"),
    "pyarrow.lib.MemoryMappedFile": (HIGH, "maps files"),
    "pyarrow.lib.NativeFile": (HIGH, "file handle"),
    "pyarrow.lib.PythonFile": (HIGH, "file handle"),
    "pyarrow.lib.BufferedOutputStream": (HIGH, "writes streams"),
    "pyarrow.lib.CompressedOutputStream": (HIGH, "writes streams"),
    "pyarrow.fs": (HIGH, "file-system access"),
    "pyarrow.parquet": (HIGH, "reads and writes files"),
    "pyarrow.csv": (HIGH, "reads and writes files"),
    "pyarrow.dataset": (HIGH, "reads files"),
    "pyarrow.flight": (HIGH, "network RPC"),
    "pyarrow.cffi": (EXEC, "native interface"),
    "transformers.dynamic_module_utils": (EXEC, "downloads and imports remote model code"),
    "transformers.pipelines": (HIGH, "downloads and runs models"),
    "transformers.utils.hub": (HIGH, "downloads files"),
    "huggingface_hub": (HIGH, "downloads and uploads files"),
    "getpass": (HIGH, "reads credentials"),
    "netrc": (HIGH, "reads credentials"),
    "keyring": (HIGH, "reads credentials"),
    "builtins.object.__subclasses__": (EXEC, "sandbox escape gadget"),
    # --- issue 14: execution or file writes that live in dotted / less-known modules -------
    # (previously unknown -> only suspicious). Evidence: picklescan's _unsafe_globals and its
    # 2025-2026 GHSA advisories (torch._dynamo.guards.GuardBuilder.get, torch._inductor.
    # codecache.compile_file, torch.fx.experimental.symbolic_shapes.ShapeEnv.evaluate_guards_
    # expression, torch.jit.unsupported_tensor_ops.execWrapper, torch.utils._config_module.
    # ConfigModule.load_config, torch.utils.bottleneck.__main__.run_cprofile, imaplib.IMAP4_
    # stream, pkgutil.resolve_name, test.support, uuid, _pyrepl), fickling's UNSAFE_IMPORTS
    # (logging, site, compileall, py_compile, pipes, pexpect, _interpreters, select, syslog).
    "logging.FileHandler": (HIGH, "opens and writes a file named by the pickle"),
    "logging.handlers": (
        HIGH,
        "file handlers write files (RotatingFileHandler, WatchedFileHandler...); socket, "
        "SMTP, HTTP and syslog handlers send data out",
    ),
    "logging.basicConfig": (HIGH, "basicConfig(filename=...) creates and writes a file"),
    "logging": (HIGH, "logging machinery opens files and network handlers"),
    "torch.jit": (
        EXEC,
        "TorchScript compilation and loading (script, CompilationUnit, load, "
        "unsupported_tensor_ops.execWrapper exec()s a string)",
    ),
    "torch.fx.experimental": (
        EXEC,
        "symbolic shapes evaluate guard expressions with eval() "
        "(ShapeEnv.evaluate_guards_expression, GHSA-f4x7-rfwp-v3xw)",
    ),
    "torch.fx.graph_module": (EXEC, "GraphModule reconstruction exec()s Python source"),
    "torch.fx.passes": (EXEC, "graph passes generate and run code"),
    "torch.fx._symbolic_trace": (EXEC, "traces and runs callables"),
    "torch.utils._config_module": (
        EXEC,
        "ConfigModule.load_config unpickles bytes and sets configuration (GHSA-vv6j-3g6g-2pvj)",
    ),
    "torch.utils.bottleneck": (EXEC, "run_cprofile exec()s a script (GHSA-4r9r-ch6f-vxmx)"),
    "torch.utils.benchmark": (EXEC, "Timer compiles and runs statement strings"),
    "torch.utils.hipify": (HIGH, "rewrites source files"),
    "torch.compiler": (EXEC, "compiles code; load_compiled_function loads compiled artifacts"),
    "torch.export": (HIGH, "torch.export.load reads and deserialises programs from files"),
    "torch._export": (HIGH, "exported-program (de)serialisation and file I/O"),
    "torch._functorch": (EXEC, "AOT compilation caches load compiled code"),
    "torch._higher_order_ops": (EXEC, "runs callables and compiled subgraphs"),
    "torch.cuda.jiterator": (EXEC, "compiles and runs CUDA C++ code strings"),
    "torch.cuda._jiterator": (EXEC, "compiles and runs CUDA C++ code strings"),
    "torch.onnx": (HIGH, "export writes model files"),
    "torch.profiler": (HIGH, "exports traces to files and runs callbacks"),
    "torch.autograd.profiler": (HIGH, "exports traces to files"),
    "torch.cuda.memory._dump_snapshot": (HIGH, "writes files"),
    "torch.backends._nnapi": (HIGH, "serialises models to files"),
    "pkgutil.resolve_name": (
        EXEC,
        "resolves any 'module:attribute' name: a universal bypass of name lists "
        "(GHSA-vvpj-8cmc-gx39)",
    ),
    "imaplib.IMAP4_stream": (EXEC, "runs a shell command (subprocess with shell=True)"),
    "test": (EXEC, "the test package: test.support.script_helper runs Python subprocesses"),
    "unittest": (HIGH, "unittest.mock patches attributes of live modules; loaders run tests"),
    "site": (EXEC, "site.addsitedir executes .pth files; site.main changes sys.path"),
    "sitecustomize": (EXEC, "runs at interpreter start-up"),
    "compileall": (HIGH, "compiles and writes .pyc files"),
    "py_compile": (HIGH, "compiles and writes .pyc files"),
    "zipapp": (HIGH, "creates executable archives (writes files)"),
    "filecmp": (HIGH, "reads arbitrary files"),
    "pipes": (EXEC, "pipes.Template runs shell pipelines"),
    "pexpect": (EXEC, "spawns processes"),
    "_interpreters": (EXEC, "runs source strings in a sub-interpreter"),
    "_xxsubinterpreters": (EXEC, "runs source strings in a sub-interpreter"),
    "interpreters": (EXEC, "runs source strings in a sub-interpreter"),
    "concurrent.interpreters": (EXEC, "runs source strings in a sub-interpreter"),
    "_pyrepl": (EXEC, "the REPL: its console runs source"),
    "rlcompleter": (HIGH, "evaluates attribute expressions"),
    "select": (HIGH, "I/O multiplexing on sockets and files"),
    "selectors": (HIGH, "I/O multiplexing on sockets and files"),
    "syslog": (HIGH, "writes to the system log"),
    "mailcap": (EXEC, "findmatch builds shell commands from mailcap files"),
    "cgitb": (HIGH, "writes tracebacks to files"),
    "wsgiref": (HIGH, "starts web servers"),
    "copy._reconstruct": (EXEC, "calls an arbitrary callable with arguments (callable(*args))"),
    "uuid": (HIGH, "uuid helpers run commands to find the MAC address (_get_command_stdout)"),
    "joblib.load": (HIGH, "nested joblib load of another file"),
    "joblib.dump": (HIGH, "writes files"),
    "joblib.Parallel": (EXEC, "runs callables"),
    "joblib.parallel": (EXEC, "runs callables"),
    "joblib.delayed": (EXEC, "wraps callables to run"),
    "joblib.Memory": (HIGH, "caches results to files"),
    "joblib.memory": (HIGH, "caches results to files"),
    "keras.models.load_model": (HIGH, "nested model load (runs Lambda layers in unsafe mode)"),
    "keras.saving": (HIGH, "loads and saves model files"),
    "tensorflow.keras.models.load_model": (HIGH, "nested model load"),
    "scipy.io": (HIGH, "reads and writes files (loadmat, savemat, mmread...)"),
    "scipy.weave": (EXEC, "compiles and runs C code"),
    "mlflow.projects": (EXEC, "runs project entry points as shell commands"),
    "mlflow.pyfunc": (HIGH, "loads models (unpickles) from paths or URIs"),
    "transformers.models.auto": (
        HIGH,
        "Auto*.from_pretrained downloads models and, with trust_remote_code, runs their code",
    ),
    "transformers.modeling_utils": (HIGH, "from_pretrained downloads and loads checkpoints"),
}

# Attribute names that, when met as a segment of a dotted name, mean the name walks into
# interpreter internals (sandbox-escape style) rather than naming an ordinary attribute.
DUNDER_ESCAPES = {
    "__globals__",
    "__builtins__",
    "__import__",
    "__subclasses__",
    "__class__",
    "__mro__",
    "__bases__",
    "__base__",
    "__dict__",
    "__getattribute__",
    "__getattr__",
    "__reduce__",
    "__reduce_ex__",
    "__code__",
    "__closure__",
    "__func__",
    "__self__",
    "__init__",
    "__loader__",
    "__spec__",
    "__call__",
    "__setattr__",
    "__delattr__",
    "__module__",
    "__new__",
    "__setstate__",
    "__getstate__",
    "__init_subclass__",
    "__dir__",
}

# short module names which, reached as an attribute of another module, mean escape
DANGEROUS_SEGMENTS = {
    "os",
    "sys",
    "subprocess",
    "builtins",
    "importlib",
    "ctypes",
    "socket",
    "pickle",
    "shutil",
    "pty",
    "runpy",
    "code",
    "marshal",
    "posix",
    "nt",
    "_posixsubprocess",
    "eval",
    "exec",
    "system",
    "popen",
    "compile",
    "getattr",
    "__import__",
    "spawn",
    "execv",
    "execve",
    "execvp",
    "spawnv",
    "spawnl",
    "check_output",
    "check_call",
    "Popen",
    "run_path",
    "run_module",
    "urlopen",
    "getoutput",
    "getstatusoutput",
    "startfile",
}

# Final attribute names that identify an execution primitive even in an unknown module (for
# example ``__main__.system`` is ``os.system`` when the loading script did ``from os import *``).
DANGEROUS_NAMES = {
    "system",
    "popen",
    "eval",
    "exec",
    "execfile",
    "compile",
    "__import__",
    "getattr",
    "spawn",
    "execv",
    "execve",
    "execvp",
    "execvpe",
    "execl",
    "execlp",
    "spawnv",
    "spawnve",
    "spawnl",
    "spawnlp",
    "Popen",
    "check_output",
    "check_call",
    "call",
    "getoutput",
    "getstatusoutput",
    "run_path",
    "run_module",
    "runsource",
    "runcode",
    "loads",
    "load",
    "urlopen",
    "startfile",
    "fork",
    "forkpty",
    "remove",
    "unlink",
    "rmtree",
    "setattr",
    "import_module",
    "run_code",
    "runctx",
    "runeval",
    "runcall",
    "pipepager",
    "tempfilepager",
    # file writers and remote loaders, met as the last part of a dotted name in an unknown
    # module (pandas.core.frame.DataFrame.to_pickle, transformers.AutoModel.from_pretrained)
    "to_pickle",
    "write_text",
    "write_bytes",
    "tofile",
    "savetxt",
    "FileHandler",
    "RotatingFileHandler",
    "from_pretrained",
    "load_state_dict_from_url",
    "download_url_to_file",
    "hf_hub_download",
    "snapshot_download",
    "load_config",
    "evaluate_guards_expression",
    "execWrapper",
}


# --- allow list ------------------------------------------------------------------------------

ALLOW_EXACT = {
    # builtins and the standard library's value types
    "builtins.set",
    "builtins.frozenset",
    "builtins.slice",
    "builtins.range",
    "builtins.complex",
    "builtins.bytearray",
    "builtins.bytes",
    "builtins.str",
    "builtins.int",
    "builtins.float",
    "builtins.bool",
    "builtins.list",
    "builtins.dict",
    "builtins.tuple",
    "builtins.object",
    "builtins.Ellipsis",
    "builtins.NotImplemented",
    "builtins.reversed",
    "builtins.zip",
    "builtins.enumerate",
    "builtins.NoneType",
    "collections.OrderedDict",
    "collections.defaultdict",
    "collections.deque",
    "collections.Counter",
    "collections.ChainMap",
    "collections.UserDict",
    "collections.UserList",
    "collections.UserString",
    "copyreg._reconstructor",
    "copyreg.__newobj__",
    "copyreg.__newobj_ex__",
    "copyreg._reduce_ex",
    "datetime.datetime",
    "datetime.date",
    "datetime.time",
    "datetime.timedelta",
    "datetime.timezone",
    "datetime.tzinfo",
    "decimal.Decimal",
    "fractions.Fraction",
    "uuid.UUID",
    "codecs.encode",
    "re._compile",
    "re.compile",
    "ipaddress.IPv4Address",
    "ipaddress.IPv6Address",
    "ipaddress.IPv4Network",
    "ipaddress.IPv6Network",
    "pathlib.PosixPath",
    "pathlib.WindowsPath",
    "pathlib.PurePosixPath",
    "pathlib.PureWindowsPath",
    "pathlib.Path",
    "pathlib.PurePath",
    "pathlib._local.PosixPath",
    "pathlib._local.WindowsPath",
    "pathlib._local.Path",
    "zoneinfo.ZoneInfo",
    "array.array",
    "array._array_reconstructor",
    "enum.Enum",
    "enum.IntEnum",
    "math.inf",
    "math.nan",
    "string.Template",
    # numpy
    "numpy.ndarray",
    "numpy.dtype",
    "numpy.matrix",
    "numpy.core._internal._reconstruct",
    "numpy.matrixlib.defmatrix.matrix",
    "numpy.core.defmatrix.matrix",
    "numpy.ma.core.MaskedConstant",
    "numpy.core.records.record",
    "numpy._core.records.record",
    "numpy.record",
    "numpy.core.multiarray._reconstruct",
    "numpy._core.multiarray._reconstruct",
    "numpy.core.multiarray.scalar",
    "numpy._core.multiarray.scalar",
    "numpy.core.numeric._frombuffer",
    "numpy._core.numeric._frombuffer",
    "numpy.ma.core._mareconstruct",
    "numpy.ma.core.MaskedArray",
    "numpy.random._pickle.__randomstate_ctor",
    "numpy.random._pickle.__bit_generator_ctor",
    "numpy.random._pickle.__generator_ctor",
    "numpy.random.mtrand.RandomState",
    "numpy.random._generator.Generator",
    "numpy.random.__RandomState_ctor",
    "numpy.core._ufunc_reconstruct",
    "numpy._core._ufunc_reconstruct",
    "numpy.core.umath._ufunc_reconstruct",
    "numpy.random.bit_generator.SeedSequence",
    "numpy.random._mt19937.MT19937",
    "numpy.random._pcg64.PCG64",
    "numpy.random._pcg64.PCG64DXSM",
    "numpy.random._philox.Philox",
    "numpy.random._sfc64.SFC64",
    "numpy.lib.index_tricks.AxisConcatenator",
    "numpy.core.records.recarray",
    "numpy._core.records.recarray",
    "numpy.core.memmap.memmap",
    # torch
    "torch.Size",
    "torch.device",
    "torch.Tensor",
    "torch.nn.parameter.Parameter",
    "torch.nn.parameter.Buffer",
    "torch.nn.parameter.UninitializedParameter",
    "torch.nn.parameter.UninitializedBuffer",
    "torch._tensor._rebuild_from_type",
    "torch._tensor._rebuild_from_type_v2",
    "torch.serialization._get_layout",
    "torch.storage._load_from_bytes",
    "torch.storage.TypedStorage",
    "torch.storage.UntypedStorage",
    "torch.storage._TypedStorage",
    "torch.storage._UntypedStorage",
    "torch.torch_version.TorchVersion",
    "torch.sparse_coo",
    "torch.sparse_csr",
    "torch.sparse_csc",
    "torch.sparse_bsr",
    "torch.sparse_bsc",
    "torch.strided",
    "torch._mkldnn",
    "torch.contiguous_format",
    "torch.channels_last",
    "torch.channels_last_3d",
    "torch.preserve_format",
    "torch.per_tensor_affine",
    "torch.per_channel_affine",
    "torch.per_channel_affine_float_qparams",
    "torch.per_tensor_symmetric",
    "torch.per_channel_symmetric",
    "torch.nn.modules.module._WrappedHook",
    "torch.return_types.max",
    "torch.return_types.min",
    "torch.return_types.topk",
    "torch.distributions.constraints._Real",
    # torch.Generator pickles as torch._C.Generator(device) + BUILD(RNG state) (issue 14:
    # a real torch.save(torch.Generator()) was suspicious)
    "torch._C.Generator",
    # joblib / sklearn / scipy / pandas helpers that are functions
    "joblib.numpy_pickle.NumpyArrayWrapper",
    "joblib.numpy_pickle.NDArrayWrapper",
    "joblib.numpy_pickle.ZNDArrayWrapper",
    "sklearn.tree._tree.Tree",
    # KDTree / BallTree / DistanceMetric pickle as newObj(cls) = cls.__new__(cls), a Cython
    # reconstructor (issue 14: real KNeighbors*, KernelDensity and LocalOutlierFactor models
    # were suspicious); the class argument is judged like copyreg.__newobj__'s
    "sklearn.neighbors._kd_tree.newObj",
    "sklearn.neighbors._ball_tree.newObj",
    "sklearn.neighbors._binary_tree.newObj",
    "sklearn.neighbors._dist_metrics.newObj",
    "sklearn.metrics._dist_metrics.newObj",
    "sklearn.utils._bunch.Bunch",
    "sklearn.utils.Bunch",
    "pandas.core.indexes.base._new_Index",
    "pandas._libs.internals._unpickle_block",
    "pandas.core.internals.blocks.new_block",
    "pandas._libs.tslibs.timestamps._unpickle_timestamp",
    "pandas._libs.tslibs.timedeltas._timedelta_unpickle",
    "pandas._libs.arrays.__pyx_unpickle_NDArrayBacked",
    "pandas._libs.tslibs.nattype._nat_unpickle",
    "pandas._libs.tslibs.period._unpickle_period",
    "pyarrow.lib._restore_array",
    "pyarrow.lib.type_for_alias",
    "pyarrow.lib.py_buffer",
    "pyarrow.lib.schema",
    "pyarrow.lib.field",
    "pyarrow.lib.table",
    "pyarrow.lib.array",
    "pyarrow.lib.chunked_array",
    "pyarrow.lib._reconstruct_table",
    "pyarrow.lib._reconstruct_record_batch",
    "pandas.core.arrays.categorical._unpickle",
    "pandas._libs.tslibs.nattype.__nat_unpickle",
    "pandas.core.internals.managers.BlockManager",
    "pandas.core.frame.DataFrame",
    "pandas.core.series.Series",
    "scipy.sparse._csr.csr_matrix",
    "scipy.sparse._csc.csc_matrix",
    "scipy.sparse._coo.coo_matrix",
    "scipy.sparse.csr.csr_matrix",
    "scipy.sparse.csc.csc_matrix",
    "xgboost.core.Booster",
    "lightgbm.basic.Booster",
    "catboost.core.CatBoost",
    "__builtin__.set",
    "argparse.Namespace",
    "typing.Any",
    "typing.Union",
    "typing.Optional",
    "types.SimpleNamespace",
    "types.NoneType",
    # builtins.type(x) is how pickle stores NoneType & co.; the 3-argument form is judged in pickle_scan
    "builtins.type",
    # functools.partial is judged by what it wraps (see pickle_scan)
    "functools.partial",
    "functools.partialmethod",
}

TORCH_DTYPES = {
    "float32",
    "float",
    "float64",
    "double",
    "float16",
    "half",
    "bfloat16",
    "uint8",
    "int8",
    "int16",
    "short",
    "int32",
    "int",
    "int64",
    "long",
    "bool",
    "complex32",
    "complex64",
    "cfloat",
    "complex128",
    "cdouble",
    "qint8",
    "quint8",
    "qint32",
    "quint4x2",
    "quint2x4",
    "float8_e4m3fn",
    "float8_e5m2",
    "float8_e4m3fnuz",
    "float8_e5m2fnuz",
    "float8_e8m0fnu",
    "uint16",
    "uint32",
    "uint64",
    "bits8",
    "bits16",
    "int1",
    "int2",
    "int3",
    "int4",
    "uint1",
    "uint2",
    "uint3",
    "uint4",
    "float4_e2m1fn_x2",
}

NUMPY_SCALARS = {
    "float16",
    "float32",
    "float64",
    "float128",
    "longdouble",
    "int8",
    "int16",
    "int32",
    "int64",
    "uint8",
    "uint16",
    "uint32",
    "uint64",
    "bool_",
    "bool",
    "complex64",
    "complex128",
    "str_",
    "bytes_",
    "object_",
    "void",
    "datetime64",
    "timedelta64",
    "intc",
    "uintc",
    "longlong",
    "ulonglong",
    "half",
    "single",
    "double",
    "csingle",
    "cdouble",
    "clongdouble",
    "intp",
    "uintp",
    "byte",
    "ubyte",
    "short",
    "ushort",
    "long",
    "ulong",
    "generic",
    "number",
    "integer",
    "floating",
    "inexact",
    "signedinteger",
    "unsignedinteger",
}

# numpy ufuncs and reductions: pure computations, stored by name when a model keeps a function
# reference (FunctionTransformer(func=np.log1p), aggregation callbacks, ...)
NUMPY_FUNCS = {
    "abs",
    "absolute",
    "add",
    "subtract",
    "multiply",
    "divide",
    "true_divide",
    "floor_divide",
    "negative",
    "positive",
    "power",
    "float_power",
    "remainder",
    "mod",
    "fmod",
    "reciprocal",
    "sqrt",
    "cbrt",
    "square",
    "exp",
    "exp2",
    "expm1",
    "log",
    "log2",
    "log10",
    "log1p",
    "logaddexp",
    "logaddexp2",
    "sin",
    "cos",
    "tan",
    "arcsin",
    "arccos",
    "arctan",
    "arctan2",
    "sinh",
    "cosh",
    "tanh",
    "arcsinh",
    "arccosh",
    "arctanh",
    "hypot",
    "deg2rad",
    "rad2deg",
    "degrees",
    "radians",
    "floor",
    "ceil",
    "trunc",
    "rint",
    "round",
    "around",
    "sign",
    "fabs",
    "maximum",
    "minimum",
    "fmax",
    "fmin",
    "clip",
    "isnan",
    "isinf",
    "isfinite",
    "signbit",
    "greater",
    "greater_equal",
    "less",
    "less_equal",
    "equal",
    "not_equal",
    "logical_and",
    "logical_or",
    "logical_xor",
    "logical_not",
    "bitwise_and",
    "bitwise_or",
    "bitwise_xor",
    "invert",
    "sum",
    "prod",
    "mean",
    "median",
    "std",
    "var",
    "min",
    "max",
    "amin",
    "amax",
    "argmin",
    "argmax",
    "cumsum",
    "cumprod",
    "average",
    "percentile",
    "quantile",
    "nanmean",
    "nanmedian",
    "nansum",
    "nanstd",
    "nanvar",
    "nanmin",
    "nanmax",
    "nanpercentile",
    "nanquantile",
    "ptp",
    "all",
    "any",
    "count_nonzero",
    "unique",
    "sort",
    "argsort",
    "transpose",
    "ravel",
    "squeeze",
    "dot",
    "matmul",
    "einsum",
    "tensordot",
    "outer",
    "inner",
    "identity",
    "zeros",
    "ones",
    "empty",
    "full",
    "arange",
    "linspace",
    "array",
    "asarray",
}
_SCIPY_STATS_CLASS = re.compile(
    r"^(?:[a-z0-9_]+_gen|rv_[a-z_]+_frozen|rv_[a-z_]+|[A-Z][A-Za-z0-9_]*)$"
)

_CLASS_NAME = re.compile(r"^_?[A-Z][A-Za-z0-9_]*$")
_PYX_UNPICKLE = re.compile(r"^__pyx_unpickle_[A-Za-z_][A-Za-z0-9_]*$")  # Cython __reduce__ helpers
_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")

# packages whose *classes* (CapWords names, no further dots) are allowed
CLASS_PACKAGES = (
    "torch.nn.modules.",
    "torch.nn.utils.",
    "torch.optim.",
    "torch.ao.nn.",
    "torch.ao.quantization.",
    "torch.nn.quantized.",
    "torch.amp.",
    "torch.cuda.amp.",
    "torch.distributions.",
    "torch.utils.data.sampler.",
    "torch.nn.intrinsic.",
    "sklearn.",
    "scipy.sparse.",
    "scipy.stats._distn_infrastructure.",
    "pandas.",
    "numpy.dtypes.",
    "numpy.random.",
    "numpy.matrixlib.",
    "pyarrow.lib.",
    "xgboost.",
    "lightgbm.",
    "catboost.",
    "joblib.numpy_pickle.",
    "torchvision.models.",
    "torchvision.ops.",
    "timm.models.",
    "timm.layers.",
    "transformers.models.",
    "transformers.configuration_utils.",
    "transformers.generation.configuration_utils.",
    "tokenizers.",
    "sentence_transformers.models.",
    "peft.tuners.",
    "accelerate.",
    "transformers.",
    "omegaconf.",
    "pytorch_lightning.",
    "lightning_fabric.",
    "lightning.",
)

# packages whose *functions* (no further dots) are also allowed
FUNCTION_PACKAGES = (
    "torch._utils._rebuild_",
    "torch.nn.functional.",
    "torch.jit._pickle.",
    "torch.nn.init.",
    "numpy.random._pickle.",
    "scipy.special.",
    "scipy.special._ufuncs.",
)

KNOWN_LIBRARIES = {
    "torch",
    "numpy",
    "sklearn",
    "scipy",
    "pandas",
    "joblib",
    "xgboost",
    "lightgbm",
    "catboost",
    "tensorflow",
    "keras",
    "transformers",
    "tokenizers",
    "torchvision",
    "timm",
    "onnx",
    "onnxruntime",
    "jax",
    "flax",
    "optax",
    "dill",
    "cloudpickle",
    "requests",
    "httpx",
    "urllib3",
    "aiohttp",
    "yaml",
    "jinja2",
    "mako",
    "pip",
    "setuptools",
    "accelerate",
    "peft",
    "sentence_transformers",
    "huggingface_hub",
    "safetensors",
    "pydantic",
    "fsspec",
    "boto3",
    "botocore",
    "paramiko",
    "fabric",
    "invoke",
    "IPython",
    "ipykernel",
    "notebook",
    "celery",
    "redis",
    "psutil",
    "docker",
}

STDLIB = set(getattr(sys, "stdlib_module_names", ())) | {"builtins", "__builtin__"}


# Allowed even though a deny entry covers their module (exact names / function prefixes).
SAFE_OVERRIDES = {
    # Logger.__reduce__ returns (getLogger, (name,)): fetches or creates a logger, nothing else
    "logging.getLogger",
    # value types of modules denied for their command-running helpers
    "uuid.UUID",
    "uuid.SafeUUID",
}
SAFE_OVERRIDE_PREFIXES = (
    # TorchScript constants.pkl rebuild helpers (build_tensor_from_id, restore_type_tag, ...)
    "torch.jit._pickle.",
)

# Deny by pattern where a prefix is too coarse: torch._C holds both data types and the JIT
# compiler's entry points (torch._C._jit_script_compile, import_ir_module, CompilationUnit,
# _load_for_lite_interpreter...), which compile or load code; dynamo's frame hooks run code.
DENY_PATTERNS: list[tuple[re.Pattern, tuple[str, str]]] = [
    (
        re.compile(
            r"^torch\._C\.(?:_jit|_?import_ir_module|_load_for_(?:lite_interpreter|mobile)"
            r"|_?CompilationUnit|Script(?:Module|Function|Method|Object)|_create_function_from_"
            r"|_compile_graph|_get_python_cu|_dynamo|_functorch|_inductor|_export"
            r"|_cuda_jiterator)"
        ),
        (EXEC, "TorchScript / compiler internals: compile, import or run code"),
    ),
]


def _deny_lookup(full: str) -> tuple[str, str] | None:
    """Longest deny entry that is a dotted prefix of ``full``."""
    parts = full.split(".")
    for i in range(len(parts), 0, -1):
        hit = DENY_MODULES.get(".".join(parts[:i]))
        if hit is not None:
            return hit
    return None


@lru_cache(maxsize=8192)
def judge(module: str, name: str) -> Verdict:
    """Judge one global reference (after alias normalisation)."""
    module, name = normalise(module, name)
    full = f"{module}.{name}" if module else name
    parts = full.split(".")[:32]

    if (
        "." not in name
        and _IDENT.match(name)
        and (full in SAFE_OVERRIDES or full.startswith(SAFE_OVERRIDE_PREFIXES))
    ):
        return Verdict("allow")
    hit = _deny_lookup(full)
    if hit is None:
        hit = next((v for rx, v in DENY_PATTERNS if rx.match(full)), None)
    if hit is not None:
        return Verdict("deny", hit[0], hit[1])
    # dotted names walk attributes: torch.serialization + os.system reaches os.system
    for k in range(1, len(parts)):
        seg = parts[k]
        if seg in DUNDER_ESCAPES:
            return Verdict(
                "deny", EXEC, f"attribute chain reaches interpreter internals via '{seg}'"
            )
        if "." not in name:
            continue
        sub = ".".join([normalise(seg, "")[0], *parts[k + 1 :]])
        hit = _deny_lookup(sub)
        if hit is not None:
            return Verdict("deny", hit[0], f"dotted name reaches {sub}: {hit[1]}")
        if seg in DANGEROUS_SEGMENTS:
            return Verdict("deny", EXEC, f"dotted name walks through attribute '{seg}'")

    if "." not in name and is_allowed(module, name):
        return Verdict("allow")
    if name in DANGEROUS_NAMES or name.split(".")[-1] in DANGEROUS_NAMES:
        return Verdict(
            "deny",
            HIGH,
            f"unknown module exposing an execution primitive named '{name.split('.')[-1]}'",
        )
    return Verdict("unknown", "medium", "not on the allow list of known-safe globals")


def is_allowed(module: str, name: str) -> bool:
    full = f"{module}.{name}"
    if full in ALLOW_EXACT:
        return True
    if module == "torch" and (
        name in TORCH_DTYPES or (name.endswith("Storage") and _CLASS_NAME.match(name))
    ):
        return True
    if module == "numpy" and (name in NUMPY_SCALARS or name in NUMPY_FUNCS):
        return True
    if module.startswith("scipy.stats.") and _SCIPY_STATS_CLASS.match(name):
        return True
    if module.startswith("torch.cuda") and name.endswith("Storage"):
        return True
    mod_dot = module + "."
    if (_CLASS_NAME.match(name) or _PYX_UNPICKLE.match(name)) and mod_dot.startswith(
        CLASS_PACKAGES
    ):
        return True
    return bool(_IDENT.match(name)) and full.startswith(FUNCTION_PACKAGES)


@lru_cache(maxsize=4096)
def is_user_module(module: str) -> bool:
    """A module that is neither stdlib nor a known library: the user's own code."""
    top = module.split(".")[0]
    if top in MODULE_ALIASES:
        return False
    return top not in STDLIB and top not in KNOWN_LIBRARIES


def describe(module: str, name: str) -> str:
    nm, nn = normalise(module, name)
    shown = f"{module}.{name}"
    if (nm, nn) != (module, name):
        shown += f" (= {nm}.{nn})"
    return shown

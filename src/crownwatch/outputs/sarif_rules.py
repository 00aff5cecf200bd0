"""What each ``crownwatch scan`` issue kind means, as SARIF rule metadata.

A SARIF rule (``reportingDescriptor``) is what a code-scanning UI shows above an alert: a
title (``shortDescription``), a paragraph (``fullDescription``), help with what to do
(``help.text`` / ``help.markdown``) and ``properties.tags`` / ``properties.security-severity``
(GitHub ranks alerts by the latter and only for rules tagged ``security``).

Every issue kind the scanner emits has an entry in :data:`KINDS`: the most severe level the
scanner reports it at (a rule's severity must not change from run to run, or an alert would
change rank as its files change), a title and a description. The advice and the CWE live
per family (the part of the kind before the dot) in :data:`FAMILIES`. All of it is fixed
text: nothing a scanned file holds reaches a rule, so the Markdown is safe to render.
"""

from __future__ import annotations

# GitHub's bands: critical > 9.0, high 7.0-8.9, medium 4.0-6.9, low 0.1-3.9
SECURITY_SEVERITY = {"critical": "9.8", "high": "8.0", "medium": "5.0", "low": "2.0", "info": "0.0"}
LEVEL = {"critical": "error", "high": "error", "medium": "warning", "low": "note", "info": "note"}

DONT_LOAD = (
    "Do not load the artifact. Get it again from a source you trust and compare its hash, "
    "or convert the weights to a format that carries no code (safetensors, GGUF without a "
    "chat template you have not read)."
)

# family -> (why it matters, what to do, CWE ids)
FAMILIES: dict[str, tuple[str, str, tuple[int, ...]]] = {
    "pickle": (
        "A pickle is a small program: loading it (pickle.load, torch.load with "
        "weights_only=False, joblib.load, numpy.load with allow_pickle=True) imports and calls "
        "every callable it names.",
        DONT_LOAD + " If it must be read, use torch.load(weights_only=True) or a restricted "
        "unpickler that allows only the classes you expect.",
        (502,),
    ),
    "torch": (
        "PyTorch checkpoints are pickles inside a zip or a legacy stream; torch.load runs them.",
        DONT_LOAD + " Load with torch.load(weights_only=True).",
        (502,),
    ),
    "torchscript": (
        "TorchScript archives carry code that runs when the model runs, and may call native "
        "operators and classes that a library registered.",
        DONT_LOAD + " Review the archive's code/ members before running the model.",
        (94,),
    ),
    "keras": (
        "Keras model configurations name the Python objects the loader builds; Lambda layers "
        "carry Python bytecode that runs when the model is loaded with safe_mode=False.",
        DONT_LOAD + " Load with safe_mode=True (the default in Keras 3) on Keras 3.9 or later.",
        (94, 502),
    ),
    "savedmodel": (
        "A TensorFlow graph can hold operations that call Python or touch the file system "
        "when the graph runs.",
        DONT_LOAD + " Do not run the graph until the operations are explained.",
        (94,),
    ),
    "onnx": (
        "ONNX models can require native custom-operator libraries and point at external "
        "tensor data anywhere on disk.",
        "Run the model only with the operator libraries you expect, and keep external data "
        "inside the model's folder.",
        (22, 829),
    ),
    "gguf": (
        "GGUF files carry metadata that loaders trust, including a Jinja chat template that "
        "inference servers render for every request.",
        DONT_LOAD + " Read the chat template before serving the model; render templates in a "
        "sandboxed Jinja environment.",
        (1336, 20),
    ),
    "safetensors": (
        "safetensors carries no code, but a malformed header can make loaders read out of "
        "bounds, allocate without limit, or see different tensors than other tools.",
        "Re-export the weights with a current safetensors release before using them.",
        (20,),
    ),
    "numpy": (
        "NumPy .npy/.npz object arrays are pickles: numpy.load(allow_pickle=True) runs them.",
        "Load with allow_pickle=False (the default); re-save object arrays as plain arrays.",
        (502,),
    ),
    "h5": (
        "HDF5 files hold Keras models and weights.",
        "No action needed for weights-only files.",
        (),
    ),
    "archive": (
        "Archives can hide payloads from scanners and tools that unpack them: paths that leave "
        "the extraction folder, links, bombs, nesting and members no tool can read.",
        "Do not extract the archive with tools that follow its paths and links; re-create it "
        "from trusted content.",
        (22, 59, 409),
    ),
    "zip": (
        "Zip structure anomalies make different readers see different members (a documented "
        "way past model scanners: PyTorch's reader loads what zipfile-based scanners reject).",
        "Re-create the archive from trusted content; do not load it with a reader that "
        "tolerates the anomaly.",
        (436,),
    ),
    "format": (
        "The content does not match what the file claims to be, or is two formats at once, "
        "so different tools see different things.",
        "Find out where the file came from; treat it as untrusted until explained.",
        (436,),
    ),
    "scan": (
        "crownwatch could not finish scanning this artifact, so it cannot vouch for it.",
        "Treat the artifact as unscanned: do not load it until it is scanned completely "
        "(a file beyond the scan budget can be split or scanned on its own).",
        (),
    ),
    "io": (
        "The artifact could not be read.",
        "Check the path and permissions, then scan again.",
        (),
    ),
}

# kind -> (most severe level reported, title, description)
KINDS: dict[str, tuple[str, str, str]] = {
    # pickle
    "pickle.dangerous_global": (
        "critical",
        "Pickle calls a dangerous callable",
        "The pickle imports a callable that runs commands, evaluates code, touches files or "
        "the network, or otherwise acts on the loading machine.",
    ),
    "pickle.unknown_global": (
        "medium",
        "Pickle imports an unknown callable",
        "The pickle imports a callable that is neither known-safe nor known-dangerous; "
        "the loader will import and call it.",
    ),
    "pickle.dynamic_global": (
        "high",
        "Pickle resolves a name computed at load time",
        "A STACK_GLOBAL or INST resolves a module or name built while unpickling, so static "
        "scanners that read names cannot see what is imported.",
    ),
    "pickle.dynamic_call": (
        "high",
        "Pickle calls a value computed at load time",
        "A REDUCE, NEWOBJ or BUILD calls something fetched through attribute chains while "
        "unpickling, hiding the real target.",
    ),
    "pickle.gadget": (
        "critical",
        "Pickle uses an import or call gadget",
        "The pickle calls a helper that imports arbitrary modules, creates classes or binds "
        "arguments to another callable: documented ways to reach code execution through "
        "allowed names.",
    ),
    "pickle.nested_dynamic": (
        "high",
        "Pickle unpickles data built at load time",
        "A nested loads() runs on bytes assembled while unpickling; its content cannot be "
        "inspected statically.",
    ),
    "pickle.global_tamper": (
        "high",
        "Pickle tampers with the loader",
        "The pickle modifies module globals, the unpickler or the copyreg registry, changing "
        "what later names resolve to.",
    ),
    "pickle.extension_code": (
        "medium",
        "Pickle uses the copyreg extension registry",
        "EXT opcodes resolve to whatever callable the loading process registered.",
    ),
    "pickle.hidden_reference": (
        "high",
        "Pickle-encoded reference hidden in broken or trailing data",
        "Bytes that are not part of the parseable pickle carry a reference to a dangerous "
        "callable; a lenient loader or a loader that seeks there runs it.",
    ),
    "pickle.hidden_pickle": (
        "medium",
        "Second pickle after a break or trailing data",
        "A further pickle starts after the first one's end or break; loaders that seek to it "
        "run it.",
    ),
    "pickle.truncated": (
        "low",
        "Pickle is truncated or broken",
        "A pickle stream breaks before its STOP; everything before the break was judged.",
    ),
    "pickle.persistent_id": (
        "low",
        "Pickle uses persistent ids",
        "Persistent ids are resolved by the loader's persistent_load, outside the pickle.",
    ),
    "pickle.custom_class": (
        "info",
        "Pickle rebuilds a user-defined class",
        "A class from the user's own code is rebuilt and given state.",
    ),
    "pickle.stacked": (
        "info",
        "Stacked pickles",
        "Another pickle follows the previous STOP; a loader calling load() again runs it.",
    ),
    "pickle.trailing_data": (
        "info",
        "Data after the last pickle",
        "Non-pickle bytes follow the last STOP.",
    ),
    # torch / TorchScript
    "torch.extra_pickle": (
        "info",
        "Extra pickle in a PyTorch checkpoint",
        "A member besides data.pkl is a pickle; loaders pointed at it run it.",
    ),
    "torch.legacy": (
        "info",
        "Legacy PyTorch stream",
        "A legacy (pre-1.6) checkpoint stream without the usual magic number.",
    ),
    "torch.legacy_incomplete": (
        "low",
        "Incomplete legacy PyTorch checkpoint",
        "The legacy checkpoint holds fewer than the five pickles it should.",
    ),
    "torch.odd_member": (
        "info",
        "Checkpoint member named like a pickle that is not one",
        "A member named *.pkl does not hold a pickle.",
    ),
    "torchscript.custom_op": (
        "medium",
        "TorchScript calls a non-standard operator",
        "The TorchScript code calls an operator from a namespace that a native library must "
        "register.",
    ),
    "torchscript.custom_class": (
        "medium",
        "TorchScript uses a custom class",
        "The TorchScript code uses a class from torch.classes that a native library must register.",
    ),
    "torchscript.file_op": (
        "high",
        "TorchScript touches the file system",
        "The TorchScript code calls an operator that reads or writes files.",
    ),
    # Keras
    "keras.lambda_code": (
        "critical",
        "Keras Lambda layer carries Python bytecode",
        "A Lambda layer holds marshalled Python bytecode that runs when the model is loaded "
        "with safe_mode=False.",
    ),
    "keras.lambda": (
        "medium",
        "Keras Lambda layer refers to a Python function",
        "A Lambda layer names a Python function the loader resolves by name.",
    ),
    "keras.dangerous_reference": (
        "critical",
        "Keras config references a dangerous callable",
        "The model configuration names a module or function that runs commands, evaluates "
        "code or touches files.",
    ),
    "keras.custom_object": (
        "medium",
        "Keras config needs a custom object or module",
        "The configuration names a custom object or module; Keras before 3.9 imports such "
        "modules at load time (CVE-2025-1550).",
    ),
    "keras.bad_config": (
        "low",
        "Keras config is not JSON",
        "The model's config.json or model_config does not parse.",
    ),
    # TensorFlow SavedModel
    "savedmodel.python_op": (
        "critical",
        "TensorFlow graph calls Python",
        "The graph uses PyFunc-style operations that call Python functions when it runs.",
    ),
    "savedmodel.file_op": (
        "high",
        "TensorFlow graph reads or writes files",
        "The graph uses operations that read or write files when it runs.",
    ),
    "savedmodel.malformed": (
        "low",
        "Malformed SavedModel protobuf",
        "The protobuf structure breaks; what precedes the break was checked.",
    ),
    # ONNX
    "onnx.external_data_escape": (
        "high",
        "ONNX external data outside the model folder",
        "A tensor's external data is an absolute path, climbs out of the model folder or is a "
        "symlink leaving it: the runtime reads any file.",
    ),
    "onnx.custom_domain": (
        "medium",
        "ONNX custom operator domain",
        "Running the model needs a native custom-operator library for a non-standard domain.",
    ),
    "onnx.malformed": (
        "low",
        "Malformed ONNX protobuf",
        "The protobuf structure breaks; what precedes the break was checked.",
    ),
    "onnx.no_graph": ("low", "ONNX model without a graph", "The ModelProto carries no graph."),
    # GGUF
    "gguf.template_injection": (
        "critical",
        "GGUF chat template reaches Python internals",
        "The Jinja chat template walks object attributes towards code execution "
        "(server-side template injection when an inference server renders it).",
    ),
    "gguf.template_unparsed": (
        "info",
        "GGUF chat template could not be parsed",
        "The chat template is not valid Jinja.",
    ),
    "gguf.bad_header": (
        "medium",
        "Malformed GGUF header",
        "The header's counts or version are out of range.",
    ),
    "gguf.bad_metadata": (
        "medium",
        "Malformed GGUF metadata",
        "A metadata key or value is malformed or out of range.",
    ),
    "gguf.bad_tensor": (
        "medium",
        "Malformed GGUF tensor info",
        "A tensor's dimensions, type or offset are invalid or overlap.",
    ),
    "gguf.malformed": ("medium", "Malformed GGUF file", "The GGUF structure does not parse."),
    "gguf.truncated": (
        "low",
        "Truncated GGUF file",
        "The file ends before its tensor data; what precedes the end was checked.",
    ),
    # safetensors
    "safetensors.oversized_header": (
        "high",
        "Oversized safetensors header",
        "The header claims more bytes than the scanner's limit; loaders allocate it before "
        "parsing (memory exhaustion).",
    ),
    "safetensors.bad_header": (
        "medium",
        "Malformed safetensors header",
        "The JSON header does not parse or has the wrong shape.",
    ),
    "safetensors.bad_metadata": (
        "medium",
        "Malformed safetensors metadata",
        "The __metadata__ entry is not a string-to-string map.",
    ),
    "safetensors.bad_tensor": (
        "medium",
        "Malformed safetensors tensor entry",
        "A tensor entry lacks or mistypes dtype, shape or offsets.",
    ),
    "safetensors.bad_dtype": (
        "medium",
        "Unknown safetensors dtype",
        "A tensor's dtype is unknown.",
    ),
    "safetensors.bad_shape": (
        "medium",
        "Invalid safetensors shape",
        "A tensor's shape is invalid or does not match its byte length.",
    ),
    "safetensors.bad_offsets": (
        "medium",
        "Invalid safetensors offsets",
        "A tensor's data offsets are reversed or out of the file.",
    ),
    "safetensors.overlap": (
        "medium",
        "Overlapping safetensors tensors",
        "Two tensors share bytes; different loaders may see different weights.",
    ),
    "safetensors.gap": (
        "low",
        "Gap between safetensors tensors",
        "Bytes between tensors belong to no tensor (room to hide data).",
    ),
    "safetensors.trailing": (
        "low",
        "Data after safetensors tensors",
        "Bytes after the last tensor belong to no tensor.",
    ),
    "safetensors.truncated": (
        "low",
        "Truncated safetensors file",
        "The file ends before the data its header describes.",
    ),
    # NumPy
    "numpy.object_array": (
        "low",
        "NumPy object array",
        "The array's data is a pickle; loading needs allow_pickle=True.",
    ),
    "numpy.bad_header": ("low", "Malformed .npy header", "The .npy header does not parse."),
    "numpy.large_header": (
        "low",
        "Oversized .npy header",
        "The .npy header is larger than NumPy's default limit.",
    ),
    "numpy.bad_object_data": (
        "low",
        "Object array data is not a pickle",
        "An object array's data does not parse as a pickle.",
    ),
    # HDF5
    "h5.no_model_config": (
        "info",
        "HDF5 file without a model config",
        "The HDF5 file carries weights only.",
    ),
    # archives
    "archive.path_traversal": (
        "high",
        "Archive member path leaves the extraction folder",
        "A member name is absolute, has a drive letter or climbs with '..': extracting it "
        "writes outside the target folder.",
    ),
    "archive.link_escape": (
        "high",
        "Archive link points outside the archive",
        "A symlink or hard link member points outside the extraction folder.",
    ),
    "archive.symlink": (
        "medium",
        "Archive holds a link",
        "A member is a symbolic or hard link.",
    ),
    "archive.special_file": (
        "medium",
        "Archive holds a device or FIFO",
        "A member is a device node or FIFO.",
    ),
    "archive.odd_name": (
        "medium",
        "Archive member name is unusual",
        "A member name holds control characters, which tools display or extract differently.",
    ),
    "archive.bomb": (
        "medium",
        "Decompression bomb",
        "Members overlap or expand far beyond their compressed size.",
    ),
    "archive.too_deep": (
        "medium",
        "Archives nested too deep",
        "Archives or compressed streams nest deeper than the scan follows.",
    ),
    "archive.too_many_members": (
        "medium",
        "Too many archive members",
        "The archive has more members than the scan examines.",
    ),
    "archive.too_large": (
        "low",
        "Archive member too large to scan",
        "A member decompresses beyond the per-member limit; only its start was scanned.",
    ),
    "archive.truncated": (
        "low",
        "Truncated compressed stream",
        "A compressed stream ends before its end marker; what it held was scanned.",
    ),
    "archive.unreadable": (
        "low",
        "Unreadable archive or member",
        "The archive structure or a member's compressed data could not be read.",
    ),
    "archive.unsupported": (
        "low",
        "Unsupported archive",
        "The archive needs a reader that is not installed.",
    ),
    "archive.unsupported_method": (
        "low",
        "Unsupported compression method",
        "A member uses a compression method the scan cannot decompress.",
    ),
    "archive.encrypted": (
        "low",
        "Encrypted archive",
        "The archive is encrypted; its members were not scanned.",
    ),
    "archive.nested": (
        "info",
        "Nested artifact",
        "A container member is an artifact of its own, reported separately.",
    ),
    # zip structure
    "zip.name_mismatch": (
        "medium",
        "Zip local and central names differ",
        "A member's local header names a different file than the central directory.",
    ),
    "zip.bad_local_header": (
        "medium",
        "Zip local header is broken",
        "A central-directory entry points at an offset with no local header.",
    ),
    "zip.central_directory_mismatch": (
        "medium",
        "Zip central directory disagrees with the archive",
        "The end record announces a different number of members than the central directory holds.",
    ),
    "zip.duplicate_name": (
        "medium",
        "Duplicate zip member names",
        "Two members share a name; readers pick different ones.",
    ),
    "zip.bad_crc": (
        "medium",
        "Zip member CRC mismatch",
        "zipfile-based tools refuse the member while other loaders read it.",
    ),
    "zip.flags": (
        "medium",
        "Odd zip flag bits",
        "General-purpose flags differ between local and central headers, claim encryption "
        "that loaders ignore, or set unusual bits (scanner evasion).",
    ),
    "zip.no_central_directory": (
        "low",
        "Zip without a central directory",
        "Members were found by walking local headers (a truncated or stripped archive).",
    ),
    "zip.prepended_data": (
        "low",
        "Data before the zip",
        "Bytes precede the first member (self-extractors and polyglots).",
    ),
    # content vs. name
    "format.polyglot": (
        "medium",
        "File is two formats at once",
        "The file is a pickle and also carries an archive; different loaders see different "
        "content.",
    ),
    "format.mismatch": (
        "low",
        "Content does not match the file name",
        "The name promises one format but the content is another.",
    ),
    "format.unrecognised": (
        "low",
        "Named like a model, content unrecognised",
        "The name promises a model format but the content is no recognised format (corrupt, "
        "truncated or not what it claims); it could not be scanned.",
    ),
    "format.not_model": (
        "info",
        "Not a model artifact",
        "The content is no recognised model format.",
    ),
    "format.compressed": ("info", "Compressed stream", "The file was decompressed in memory."),
    # the scan itself
    "scan.budget_exceeded": (
        "low",
        "Scan budget exceeded",
        "The scan stopped at its per-file limit on bytes unpacked, members, results or time; "
        "the rest was not scanned.",
    ),
    "scan.internal_error": (
        "low",
        "Scanner error",
        "The scanner failed on this artifact; what was found before the failure is reported.",
    ),
    "scan.unscannable": (
        "medium",
        "Artifact could not be scanned",
        "The artifact could not be scanned (unreadable, truncated, corrupt, not the format "
        "its name claims, or beyond the scan budget). An alert on this file that closes in "
        "the same run was not fixed: the file was not scanned.",
    ),
    "io.error": ("info", "Read error", "The file could not be read."),
    "io.not_found": ("info", "Path not found", "The path or glob matched no file."),
}


def rule(kind: str) -> dict:
    """The SARIF ``reportingDescriptor`` of issue kind ``kind`` (a generic one for a kind that
    is not in the catalogue, so a new kind never breaks the log)."""
    family = kind.split(".", 1)[0]
    why, todo, cwes = FAMILIES.get(family, ("", "Treat the artifact as untrusted.", ()))
    generic = kind.replace(".", ": ").replace("_", " ")
    severity, title, description = KINDS.get(kind, ("medium", generic, f"Scan issue {kind}."))
    full = " ".join(p for p in (description, why) if p)
    tags = ["security", "supply-chain", "model-artifact", family]
    tags += [f"external/cwe/cwe-{c}" for c in cwes]
    markdown = [f"**{title}**", description, why, f"**What to do:** {todo}"]
    return {
        "id": kind,
        "name": "".join(w[:1].upper() + w[1:] for w in kind.replace(".", "_").split("_") if w),
        "shortDescription": {"text": title},
        "fullDescription": {"text": full},
        "help": {
            "text": f"{title}. {full}\n\nWhat to do: {todo}",
            "markdown": "\n\n".join(p for p in markdown if p),
        },
        "defaultConfiguration": {"level": LEVEL[severity]},
        "properties": {
            "tags": list(dict.fromkeys(tags)),
            "security-severity": SECURITY_SEVERITY[severity],
            "severity": severity,
        },
    }


# The notification every artifact that was not scanned completely gets.
INCOMPLETE_NOTIFICATION = {
    "id": "scan.incomplete",
    "name": "ScanIncomplete",
    "shortDescription": {"text": "Artifact not scanned completely"},
    "fullDescription": {
        "text": "An artifact could not be scanned, or not completely (unreadable, truncated, "
        "corrupt, not the format its name claims, beyond the scan budget). The run is failed: "
        "its results do not cover that artifact."
    },
    "defaultConfiguration": {"level": "error"},
}

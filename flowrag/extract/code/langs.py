"""Which language a file is in, and what its tree-sitter grammar calls things (Java, Kotlin, Scala,
C#, Go, JavaScript/TypeScript, Perl, PHP, Ruby, Rust, C/C++, Terraform/HCL, Groovy and Jenkinsfiles,
PowerShell, shell, SQL; YAML/JSON/TOML/Markdown for documents).

Grammars come from the official per-language PyPI wheels (``tree-sitter-java``, …), which carry the
compiled parser: nothing is downloaded at run time. A language is data here (node types per role);
the walker in :mod:`flowrag.extract.code.treesitter` is written once for all of them."""

from __future__ import annotations

import importlib
import threading
import warnings
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Any

from flowrag.errors import ModelError

__all__ = ["EXTENSIONS", "LANGUAGES", "LangSpec", "detect_language", "parser_for"]


@dataclass(frozen=True)
class LangSpec:
    name: str
    module: str  # grammar package module
    function: str = "language"  # function of the module returning the language pointer
    classes: dict[str, str] = field(default_factory=dict)  # node type -> symbol kind
    functions: dict[str, str] = field(default_factory=dict)  # node type -> symbol kind
    calls: frozenset[str] = frozenset()
    imports: frozenset[str] = frozenset()
    comments: frozenset[str] = frozenset({"comment", "block_comment", "line_comment"})


_F = frozenset
LANGUAGES: dict[str, LangSpec] = {
    spec.name: spec
    for spec in (
        LangSpec(
            "java",
            "tree_sitter_java",
            classes={
                "class_declaration": "class",
                "interface_declaration": "interface",
                "enum_declaration": "enum",
                "record_declaration": "record",
            },
            functions={"method_declaration": "method", "constructor_declaration": "method"},
            calls=_F({"method_invocation", "object_creation_expression"}),
            imports=_F({"import_declaration"}),
        ),
        LangSpec(
            "kotlin",
            "tree_sitter_kotlin",
            classes={"class_declaration": "class", "object_declaration": "object"},
            functions={"function_declaration": "function"},
            calls=_F({"call_expression"}),
            imports=_F({"import"}),
        ),
        LangSpec(
            "scala",
            "tree_sitter_scala",
            classes={"class_definition": "class", "object_definition": "object", "trait_definition": "trait"},
            functions={"function_definition": "function"},
            calls=_F({"call_expression"}),
            imports=_F({"import_declaration"}),
        ),
        LangSpec(
            "csharp",
            "tree_sitter_c_sharp",
            classes={
                "class_declaration": "class",
                "interface_declaration": "interface",
                "struct_declaration": "struct",
                "record_declaration": "record",
                "enum_declaration": "enum",
            },
            functions={
                "method_declaration": "method",
                "constructor_declaration": "method",
                "local_function_statement": "function",
            },
            calls=_F({"invocation_expression", "object_creation_expression"}),
            imports=_F({"using_directive"}),
        ),
        LangSpec(
            "go",
            "tree_sitter_go",
            classes={"type_spec": "type"},
            functions={"function_declaration": "function", "method_declaration": "method"},
            calls=_F({"call_expression"}),
            imports=_F({"import_spec"}),
        ),
        *(
            LangSpec(
                name,
                module,
                function,
                classes={
                    "class_declaration": "class",
                    "abstract_class_declaration": "class",
                    "interface_declaration": "interface",
                },
                functions={
                    "function_declaration": "function",
                    "generator_function_declaration": "function",
                    "method_definition": "method",
                    # const refresh = async (id) => {…}: a named arrow function
                    "variable_declarator": "function",
                    # const requests = { get: url => agent.get(ROOT + url) }: a function in an object
                    "pair": "function",
                },
                calls=_F({"call_expression"}),
                imports=_F({"import_statement"}),
            )
            for name, module, function in (
                ("javascript", "tree_sitter_javascript", "language"),
                ("typescript", "tree_sitter_typescript", "language_typescript"),
                ("tsx", "tree_sitter_typescript", "language_tsx"),
            )
        ),
        LangSpec(
            "perl",
            "tree_sitter_perl",
            classes={"package_statement": "package"},
            functions={"subroutine_declaration_statement": "function"},
            calls=_F(
                {"method_call_expression", "function_call_expression", "ambiguous_function_call_expression"}
            ),
            imports=_F({"use_statement"}),
            comments=_F({"comment", "pod"}),
        ),
        LangSpec(
            "php",
            "tree_sitter_php",
            "language_php",
            classes={
                "class_declaration": "class",
                "interface_declaration": "interface",
                "trait_declaration": "trait",
                "enum_declaration": "enum",
            },
            functions={"method_declaration": "method", "function_definition": "function"},
            calls=_F({"member_call_expression", "function_call_expression", "scoped_call_expression"}),
            imports=_F({"namespace_use_declaration"}),
        ),
        LangSpec(
            "ruby",
            "tree_sitter_ruby",
            classes={"class": "class", "module": "module"},
            functions={"method": "method", "singleton_method": "method"},
            calls=_F({"call"}),
        ),
        LangSpec(
            "rust",
            "tree_sitter_rust",
            classes={"struct_item": "struct", "enum_item": "enum", "trait_item": "trait"},
            functions={"function_item": "function"},
            calls=_F({"call_expression"}),
            imports=_F({"use_declaration"}),
        ),
        LangSpec(
            "c",
            "tree_sitter_c",
            classes={"struct_specifier": "struct"},
            functions={"function_definition": "function"},
            calls=_F({"call_expression"}),
            imports=_F({"preproc_include"}),
        ),
        LangSpec(
            "cpp",
            "tree_sitter_cpp",
            classes={
                "class_specifier": "class",
                "struct_specifier": "struct",
                "namespace_definition": "namespace",
            },
            functions={"function_definition": "function"},
            calls=_F({"call_expression"}),
            imports=_F({"preproc_include"}),
        ),
        LangSpec("hcl", "tree_sitter_hcl", classes={"block": "block"}),
        LangSpec(
            "groovy",
            "tree_sitter_groovy",
            classes={"class_declaration": "class"},
            functions={"function_definition": "function", "method_declaration": "method"},
            calls=_F({"method_invocation", "juxt_function_call"}),
            imports=_F({"import_declaration"}),
        ),
        LangSpec(
            "powershell",
            "tree_sitter_powershell",
            classes={"class_statement": "class"},
            functions={"function_statement": "function"},
            calls=_F({"command"}),
        ),
        LangSpec(
            "shell",
            "tree_sitter_bash",
            functions={"function_definition": "function"},
            calls=_F({"command"}),
        ),
        LangSpec(
            "sql",
            "tree_sitter_sql",
            classes={"create_table": "table", "create_view": "view", "create_materialized_view": "view"},
            functions={"create_function": "function", "create_procedure": "function"},
        ),
        LangSpec("yaml", "tree_sitter_yaml"),
        LangSpec("json", "tree_sitter_json"),
        LangSpec("toml", "tree_sitter_toml"),
        LangSpec("markdown", "tree_sitter_markdown"),
    )
}

EXTENSIONS: dict[str, str] = {
    ".py": "python",
    ".pyi": "python",
    ".java": "java",
    ".kt": "kotlin",
    ".kts": "kotlin",
    ".scala": "scala",
    ".sc": "scala",
    ".cs": "csharp",
    ".go": "go",
    ".js": "javascript",
    ".mjs": "javascript",
    ".cjs": "javascript",
    ".jsx": "javascript",
    ".ts": "typescript",
    ".mts": "typescript",
    ".cts": "typescript",
    ".tsx": "tsx",
    ".pl": "perl",
    ".pm": "perl",
    ".t": "perl",
    ".php": "php",
    ".rb": "ruby",
    ".rake": "ruby",
    ".rs": "rust",
    ".c": "c",
    ".h": "c",
    ".cc": "cpp",
    ".cpp": "cpp",
    ".cxx": "cpp",
    ".hpp": "cpp",
    ".hh": "cpp",
    ".tf": "hcl",
    ".hcl": "hcl",
    ".tfvars": "hcl",
    ".groovy": "groovy",
    ".gradle": "groovy",
    ".ps1": "powershell",
    ".psm1": "powershell",
    ".sh": "shell",
    ".bash": "shell",
    ".ksh": "shell",
    ".sql": "sql",
    ".yaml": "yaml",
    ".yml": "yaml",
    ".json": "json",
    ".toml": "toml",
    ".md": "markdown",
    ".markdown": "markdown",
}

_SHEBANGS = {
    "python": "python",
    "bash": "shell",
    "sh": "shell",
    "ksh": "shell",
    "zsh": "shell",
    "node": "javascript",
    "perl": "perl",
    "ruby": "ruby",
    "php": "php",
    "pwsh": "powershell",
}


def detect_language(path: str, text: str) -> str:
    """By extension, then by shebang (``#!/usr/bin/env bash`` scripts have none); ``text`` otherwise."""
    pure = PurePosixPath(path)
    if pure.name.startswith(".env"):
        return "dotenv"
    language = EXTENSIONS.get(pure.suffix.lower())
    if language:
        return language
    if pure.name == "Jenkinsfile" or pure.name.startswith("Jenkinsfile."):
        return "groovy"
    if pure.name == "Dockerfile":
        return "dockerfile"
    if text.startswith("#!"):
        interpreter = text[2:].split("\n", 1)[0].strip().split()
        if interpreter:
            program = interpreter[-1] if interpreter[0].endswith("/env") else interpreter[0]
            return _SHEBANGS.get(program.rsplit("/", 1)[-1].rstrip("0123456789."), "text")
    return "text"


_local = threading.local()


def parser_for(language: str) -> Any:
    """A tree-sitter parser for ``language`` (one per thread: parsers are not thread-safe)."""
    cache: dict[str, Any] = getattr(_local, "parsers", None) or {}
    _local.parsers = cache
    if language not in cache:
        import tree_sitter

        spec = LANGUAGES[language]
        try:
            grammar = getattr(importlib.import_module(spec.module), spec.function)()
        except ImportError as exc:
            raise ModelError(
                f"the tree-sitter grammar for {language} is not installed ({spec.module})",
                hint="reinstall flowrag: its dependencies include the grammar wheels",
            ) from exc
        with warnings.catch_warnings():  # some grammar wheels (tree-sitter-perl) still hand an int pointer
            warnings.simplefilter("ignore", DeprecationWarning)
            cache[language] = tree_sitter.Parser(tree_sitter.Language(grammar))
    return cache[language]

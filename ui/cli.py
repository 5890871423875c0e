"""The ``rag`` command: thin subcommands over the library, messages in Chinese.

The command line is a user interface, so it lives in ``ui/``, the outermost
layer: it wires ``ingest`` (for ``rag ingest``, uploads and ``rag eval``'s own
documents) and ``eval`` into the library calls of ``rag``. Each subcommand
imports what it needs when it runs, so ``rag --help`` is instant and nothing
heavy (torch, Chroma) loads for commands that do not use it.

Exit codes: 0 success, 1 some input failed (e.g. a file could not be
ingested), 2 usage or configuration error.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from rag.config import Settings
from rag.data import sample_dir
from rag.errors import RagError
from ui.cli_parser import build_parser
from ui.cli_print import print_cases, print_citations, print_hits, print_sources

SAMPLE_QUESTION = "楼宇党建是怎么做的？"


def _settings(args: argparse.Namespace) -> Settings:
    overrides: dict[str, Any] = {}
    if getattr(args, "data_dir", None):
        overrides["data_dir"] = Path(args.data_dir)
    return Settings(**overrides)


def _kb(settings: Settings) -> Any:
    from rag.knowledge import KnowledgeBase

    return KnowledgeBase(settings)


def _print_json(obj: Any) -> None:
    print(json.dumps(obj, ensure_ascii=False, indent=2))


def cmd_ingest(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from ingest.pipeline import discover, ingest_paths

    settings = _settings(args)
    paths = [Path(p) for p in args.paths] or [sample_dir()]
    files, missing = discover(paths)
    kb = _kb(settings)
    with tqdm(total=len(files) + len(missing), desc="导入", unit="个文件", file=sys.stderr,
              disable=args.quiet) as bar:
        def on_file(outcome: Any) -> None:
            if outcome.status == "failed":
                tqdm.write(f"失败  {outcome.error}", file=sys.stderr)
            if outcome.status != "removed":
                bar.update(1)

        def on_page(source: str, done: int, total: int) -> None:
            bar.set_postfix_str(f"{source} 文字识别 {done}/{total} 页")

        report = ingest_paths(kb, paths, sync=args.sync, on_file=on_file, on_page=on_page)
    files_seen = len(report.outcomes) - report.count("removed")
    print(f"文件数 {files_seen}：新增 {report.count('added')}，更新 {report.count('updated')}，"
          f"未变 {report.count('unchanged')}，失败 {report.count('failed')}"
          + (f"，移除 {report.count('removed')}" if args.sync else "")
          + f"；片段数 {report.chunks}；用时 {report.seconds:.1f} 秒")
    return 1 if report.failed else 0


def cmd_sources(args: argparse.Namespace) -> int:
    rows = _kb(_settings(args)).sources()
    if args.json:
        _print_json({"documents": [r.to_json() for r in rows]})
        return 0
    if not rows:
        print("知识库为空。用 rag ingest 文件或目录 导入资料。")
        return 0
    print_sources(rows)
    print(f"共 {len(rows)} 篇文档，{sum(r.chunks for r in rows)} 个片段。")
    return 0


def cmd_remove(args: argparse.Namespace) -> int:
    kb = _kb(_settings(args))
    missing = 0
    with kb.write_lock():
        for source in args.files:
            if kb.remove(source):
                print(f"已移除 {source}")
            else:
                missing += 1
                print(f"知识库中没有 {source}（用 rag sources 查看文档名）", file=sys.stderr)
    return 1 if missing else 0


def cmd_search(args: argparse.Namespace) -> int:
    from rag.retrieval import search

    kb = _kb(_settings(args))
    sources = kb.sources_of_kind(args.source_type, args.source)
    if sources == []:
        print(f"知识库中没有{args.source_type}类文档。", file=sys.stderr)
        return 1
    hits = search(kb, args.query, k=args.k, region=args.region, sources=sources)
    if args.json:
        _print_json({"query": args.query, "results": [h.to_json() for h in hits],
                     "timings_ms": {k: round(v, 1) for k, v in hits.timings_ms.items()}})
        return 0
    if not hits:
        print("没有找到相关片段。")
    print_hits(hits)
    return 0


def cmd_ask(args: argparse.Namespace) -> int:
    from rag.chain import ask_stream

    kb = _kb(_settings(args))
    stream = sys.stdout.isatty() and not args.json
    answer = None
    sources = kb.sources_of_kind(args.source_type, args.source)
    if sources == []:
        print(f"知识库中没有{args.source_type}类文档。", file=sys.stderr)
        return 1
    if not args.json and not args.source:
        from rag.cases import find_cases
        from rag.retrieval import is_cross_case

        if is_cross_case(args.question):  # a question across places: every case first, then the answer
            report = find_cases(kb, args.question, region=args.region)
            if report.cases:
                print_cases(report)
                print()
    for event in ask_stream(kb, args.question, llm=args.llm, k=args.k, region=args.region,
                            sources=sources):
        if event.kind == "evidence" and stream and event.evidence:
            print("原文摘录：")
            print_citations(event.evidence)
            print("\n回答：", flush=True)
        elif event.kind == "token" and stream:
            print(event.token, end="", flush=True)
        elif event.answer is not None:
            answer = event.answer
    assert answer is not None
    if args.json:
        _print_json(answer.to_json())
        return 0
    if stream:
        print("\n")
    if answer.notice:
        print(f"提示：{answer.notice}")
    print(answer.text if not stream or answer.refused or answer.llm == "none" else f"（核对后）{answer.text}")
    if answer.citations:
        print("\n引用出处：")
        print_citations(answer.citations)
    ms = answer.timings_ms
    print(f"\n（{answer.llm}；检索 {ms.get('retrieve', 0) / 1000:.1f} 秒，共 {ms.get('total', 0) / 1000:.1f} 秒）")
    return 0


def cmd_cases(args: argparse.Namespace) -> int:
    from rag.cases import find_cases

    kb = _kb(_settings(args))
    report = find_cases(kb, args.topic, region=args.region, since=args.since)
    if args.llm and args.llm != "none":
        from rag.case_summaries import summarized

        report = summarized(kb, report, args.llm)
    if args.json:
        _print_json(report.to_json())
        return 0
    print_cases(report)
    return 0


def cmd_lesson(args: argparse.Namespace) -> int:
    from dataclasses import replace

    from rag.cases import find_cases
    from rag.lesson import build_lesson, check_lesson
    from rag.lesson_phrasing import phrased
    from ui.lesson_export import export_lesson

    kb = _kb(_settings(args))
    report = find_cases(kb, args.topic, region=args.region, since=args.since)
    if not report.cases:
        raise RagError(f"{report.header()}无法生成备课包：请换一个主题，或先导入相关文章。")
    pack = phrased(kb, build_lesson(report, args.cases), args.llm)
    problems = check_lesson(pack, kb.text_lookup())
    if problems:  # never expected: every part is built from checked quotes
        raise RagError("备课包核对未通过：" + "；".join(problems))
    pack = replace(pack, files=export_lesson(pack, Path(args.out)))
    if args.json:
        _print_json(pack.to_json())
        return 0
    print(pack.header)
    print(f"备课包：案例 {len(pack.cases)} 个，讲解要点 {len(pack.points)} 条，讨论题 {len(pack.discussion)} 道，"
          f"随堂测验 {len(pack.quiz)} 题（答案均出自原文，已核对）。")
    if pack.written_by:
        print(pack.phrasing_note())
    for kind, label in (("docx", "讲义 Word"), ("pptx", "幻灯片"), ("md", "Markdown")):
        print(f"  {label}：{pack.files[kind]}")
    return 0


def cmd_check(args: argparse.Namespace) -> int:
    kb = _kb(_settings(args))
    with kb.write_lock():
        report = kb.check(repair=not args.dry_run, full=True)
    if report.ok:
        print(f"检查通过：清单、向量库和关键词索引一致（{report.chunks} 个片段）。")
        return 0
    verb = "已修复" if report.repaired else "发现"
    keyword = f"；关键词索引：{report.keyword_problem}{'，已重建' if report.repaired else ''}" \
        if report.keyword_problem else ""
    print(f"{verb}：多余向量 {report.orphan_vectors} 个，缺失向量 {report.missing_vectors} 个{keyword}。")
    if not report.repaired:
        print("运行 rag check（不加 --dry-run）即可修复。")
    return 0 if report.repaired else 1


def cmd_models(args: argparse.Namespace) -> int:
    from rag.embeddings import get_embeddings
    from rag.models import resolve_chat_model

    settings = _settings(args)
    emb = get_embeddings(settings)
    print(f"嵌入模型已就绪：{settings.embedding_model}（{emb.dimension} 维），模型目录 {settings.models_dir}")
    for name in args.chat or [settings.local_model]:
        if name != "none":
            path = resolve_chat_model(name, settings.models_dir)
            print(f"本地问答模型已就绪：{path}")
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    from ingest.pipeline import ingest_paths
    from rag.llm import parse_llm
    from ui.serve import serve

    settings = _settings(args)
    if args.llm:
        settings = settings.model_copy(update={"llm": args.llm})
    parse_llm(settings.llm, settings)  # a clear error before anything loads
    serve(_kb(settings), ingest_paths, host=args.host, port=args.port,
          say=lambda line: print(line, flush=True))
    return 0


def cmd_eval(args: argparse.Namespace) -> int:
    from eval.commands import compare_command, eval_command
    from ingest.pipeline import ingest_paths

    if args.target[0] == "compare":
        return compare_command(args.target[1:], args.out)
    if len(args.target) != 1:
        raise RagError("用法：rag eval 数据集 [选项]，或 rag eval compare 评测目录A 评测目录B")
    return eval_command(Path(args.target[0]), _settings(args), lambda kb, paths: ingest_paths(kb, paths),
                        llm=args.llm, k=args.k, limit=args.limit, out=args.out, kb_cache=args.kb_cache,
                        docs=args.docs, every_answerable=args.every_answerable)


COMMANDS = {"ingest": cmd_ingest, "sources": cmd_sources, "remove": cmd_remove, "search": cmd_search, "ask": cmd_ask,
            "cases": cmd_cases, "lesson": cmd_lesson, "serve": cmd_serve, "eval": cmd_eval, "check": cmd_check,
            "models": cmd_models}


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if getattr(args, "k", None) is not None and args.k < 1:
        print("错误：-k 必须是正整数", file=sys.stderr)
        return 2
    from pydantic import ValidationError

    try:
        return int(COMMANDS[args.command](args))
    except ValidationError as err:
        fields = "、".join(f"RAG_{str(e['loc'][0]).upper()}（{e['msg']}）" for e in err.errors())
        print(f"配置错误：{fields}", file=sys.stderr)
        return 2
    except RagError as err:
        print(f"错误：{err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("已中断。已完成的文件已保存，再次运行会从中断处继续。", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())

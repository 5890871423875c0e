"""Lays out the ``ChatApp`` handlers as a Gradio Blocks: 问答 tab and 知识库 tab.

Deliberately not here: the handlers (``ui.app``), launching (``ui.serve``).
"""

from __future__ import annotations

from typing import Any

from rag.files import SUPPORTED_KINDS
from ui.app import (
    ALL_REGIONS,
    ChatApp,
    answer_modes,
    documents_rows,
    lesson_modes,
    mode_note,
    region_choices,
    source_choices,
)
from ui.render import CHAT_CSS, CHAT_JS, conversation_html

TITLE = "党建案例问答"
PAGE_CSS = """
#chat { min-height: 360px; }
#mode-note { color: #6b7280; font-size: 0.9em; }
"""


def build_blocks(app: ChatApp) -> Any:
    import gradio as gr

    settings = app.settings
    modes = answer_modes(settings)
    default_mode = settings.llm if settings.llm in {v for _, v in modes} else modes[0][1]
    infos = app.kb.sources()
    with gr.Blocks(title=TITLE, analytics_enabled=False) as blocks:
        turns = gr.State([])
        gr.Markdown(f"## {TITLE}\n根据已导入的党建文章回答问题，每句话都标注出处，可点击 [n] 查看原文。")
        with gr.Tab("问答"), gr.Row():
            with gr.Column(scale=3):
                chat = gr.HTML(conversation_html([]), elem_id="chat", js_on_load=CHAT_JS,
                               css_template=CHAT_CSS, autoscroll=True)
                question = gr.Textbox(label="问题",
                                      placeholder="例如：其他地方是怎么选派党建指导员的？（回车提交）",
                                      lines=1, max_lines=4, elem_id="question")
                with gr.Row():
                    send = gr.Button("提问", variant="primary", elem_id="send")
                    clear = gr.Button("清空对话", elem_id="clear")
                gr.Examples([[q] for q in app.examples()], inputs=[question], label="示例问题")
            with gr.Column(scale=1):
                mode = gr.Radio(modes, value=default_mode, label="回答方式", elem_id="mode")
                note = gr.Markdown(mode_note(default_mode), elem_id="mode-note")
                region = gr.Dropdown(region_choices(infos), value=ALL_REGIONS, label="地区",
                                     elem_id="region")
                sources = gr.Dropdown(source_choices(infos), value=[], multiselect=True,
                                      label="限定文章（不选则全部）", elem_id="sources")
                md_file = gr.DownloadButton("导出 Markdown", value=None, elem_id="export-md")
                docx_file = gr.DownloadButton("导出 Word", value=None, elem_id="export-docx")
                gr.Markdown("案例表（跨地区问题）", elem_id="cases-label")
                cases_docx = gr.DownloadButton("案例表 Word", value=None, elem_id="export-cases-docx")
                cases_xlsx = gr.DownloadButton("案例表 Excel", value=None, elem_id="export-cases-xlsx")
                cases_md = gr.DownloadButton("案例表 Markdown", value=None, elem_id="export-cases-md")
        with gr.Tab("备课"):
            gr.Markdown("输入一个主题，选出不同地方的案例，生成讲解要点、讨论题和随堂测验；每个事实都出自原文并已核对。")
            with gr.Row():
                lesson_topic = gr.Textbox(label="主题", placeholder="例如：党建指导员", elem_id="lesson-topic", scale=3)
                lesson_cases = gr.Slider(3, 8, value=5, step=1, label="案例数", elem_id="lesson-cases", scale=1)
                lesson_region = gr.Dropdown(region_choices(infos), value=ALL_REGIONS, label="地区",
                                            elem_id="lesson-region", scale=1)
                lesson_mode = gr.Dropdown(lesson_modes(settings), value="none", label="讲解要点写法",
                                          elem_id="lesson-mode", scale=2)
            lesson_build = gr.Button("生成备课包", variant="primary", elem_id="lesson-build")
            with gr.Row():
                lesson_docx = gr.DownloadButton("讲义 Word", value=None, elem_id="lesson-docx")
                lesson_pptx = gr.DownloadButton("幻灯片 PPT", value=None, elem_id="lesson-pptx")
                lesson_md = gr.DownloadButton("Markdown", value=None, elem_id="lesson-md")
            lesson_preview = gr.Markdown(elem_id="lesson-preview")
        with gr.Tab("知识库"):
            upload = gr.File(file_count="multiple", elem_id="upload",  # types checked server-side, in Chinese
                             label=f"上传文章（{SUPPORTED_KINDS}；单个不超过 {settings.max_file_mb:g} MB；"
                                   "与已有文档同名但内容不同的文件不会导入，除非勾选替换）")
            with gr.Row():
                replace_box = gr.Checkbox(False, label="替换同名文档", elem_id="replace-same-name")
                import_btn = gr.Button("导入", variant="primary", elem_id="import")
            kb_message = gr.Markdown(elem_id="kb-message")
            import_table = gr.Dataframe(headers=["文件", "结果", "片段数", "说明"], interactive=False,
                                        label="导入结果", elem_id="import-result")
            docs = gr.Dataframe(documents_rows(infos), headers=["文件", "标题", "地区", "片段数", "导入时间"],
                                interactive=False, label="已导入的文档", elem_id="documents")
            with gr.Row():
                delete_pick = gr.Dropdown(source_choices(infos), value=None, label="选择要删除的文档",
                                          elem_id="delete-pick")
                delete_btn = gr.Button("删除", variant="stop", elem_id="delete")

        ask_io: dict[str, Any] = {"inputs": [question, turns, mode, region, sources],
                                  "outputs": [chat, turns, question, md_file, docx_file, cases_docx, cases_xlsx,
                                              cases_md],
                                  "concurrency_limit": settings.ui_concurrency, "show_progress": "hidden"}
        question.submit(app.ask, **ask_io)
        send.click(app.ask, **ask_io)
        clear.click(lambda: (conversation_html([]), []), outputs=[chat, turns])
        def vote_handler(turn_list: list, evt: Any) -> tuple[Any, ...]:
            if not (getattr(evt, "_data", None) or {}).get("vote"):
                return gr.skip(), gr.skip()
            return app.vote(turn_list, evt)

        vote_handler.__annotations__ = {"turn_list": list, "evt": gr.EventData}  # gradio injects evt by type
        # votes come as 'like' from CHAT_JS; plain clicks (citations) never reach the server
        chat.like(vote_handler, inputs=[turns], outputs=[chat, turns], show_progress="hidden")
        mode.change(mode_note, inputs=[mode], outputs=[note])
        lesson_io: dict[str, Any] = {"inputs": [lesson_topic, lesson_cases, lesson_region, lesson_mode],
                                     "outputs": [lesson_preview, lesson_docx, lesson_pptx, lesson_md]}
        lesson_build.click(app.lesson, **lesson_io)
        lesson_topic.submit(app.lesson, **lesson_io)
        refresh_outputs = [docs, region, sources, delete_pick]

        def upload_handler(files: list[str] | None, replace_same_name: bool,
                           progress: Any = gr.Progress()) -> tuple[Any, ...]:  # noqa: B008
            return app.upload(files, replace_same_name, progress)

        import_btn.click(upload_handler, inputs=[upload, replace_box],
                         outputs=[kb_message, import_table, *refresh_outputs], concurrency_limit=1)
        delete_btn.click(app.delete, inputs=[delete_pick], outputs=[kb_message, *refresh_outputs],
                         concurrency_limit=1)
    return blocks

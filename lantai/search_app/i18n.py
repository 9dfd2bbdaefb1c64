"""The page texts in Chinese (the default) and English, and how a visitor picks one.

``?lang=en`` (or ``zh``) switches and is remembered in a cookie; nothing else is read."""

from __future__ import annotations

from flask import Response, g, request

LANGUAGES = ("zh", "en")
COOKIE = "lang"

TEXTS: dict[str, tuple[str, str]] = {
    "site": ("兰台档案检索", "Lantai archive search"),
    "home": ("首页", "Home"),
    "search": ("检索", "Search"),
    "placeholder": ("输入检索词，如 杨靖宇、\"东北抗日联军\"、1937..1945",
                    "Words, \"phrases\", 1937..1945 …"),
    "browse_fonds": ("全宗浏览", "Browse fonds"),
    "results": ("共 {total} 条结果（用时 {ms} 毫秒）", "{total} results ({ms} ms)"),
    "relaxed": ("没有档案同时包含全部检索词——以下显示部分匹配的结果",
                "No record has every word — showing partial matches"),
    "relaxed_some": ("{exact} 条档案包含全部检索词，其后为只含部分检索词的结果",
                     "{exact} records have every word; partial matches follow"),
    "partial": ("部分匹配", "partial match"),
    "no_results": ("没有找到档案。", "No records found."),
    "filters": ("已选条件", "Filters"),
    "remove": ("移除", "remove"),
    "prev": ("上一页", "Previous"),
    "next": ("下一页", "Next"),
    "page_of": ("第 {page} / {pages} 页", "Page {page} of {pages}"),
    "text_page": ("第 {n} 页", "page {n}"),
    "full_text": ("全文", "Full text"),
    "no_text": ("本档案没有全文。", "This record has no text."),
    "similar": ("相似档案", "Similar records"),
    "contents": ("下级", "Contents"),
    "records": ("档案", "Records"),
    "count": ("{n} 件", "{n} records"),
    "description": ("著录项", "Description"),
    "language": ("English", "中文"),
    "api": ("接口", "API"),
    "sort": ("排序", "Sort"),
    "no_results_hint": ("简体和繁体已自动互查（「{s}」与「{t}」都检索过了）。"
                        "可以减少检索词、去掉引号，或改用时人用语再试。",
                        "Simplified and traditional forms are searched together (“{s}” and "
                        "“{t}” were both tried). Try fewer words, no quotes, or the words of the "
                        "period."),
    "empty_archive": ("目前还没有开放的档案。", "No records are open yet."),
    "nav_site": ("站点导航", "Site"),
    "nav_crumbs": ("所在层级", "Location in the archive"),
    "nav_pages": ("分页", "Pages"),
    "search_results": ("检索结果", "Search results"),
    "date_range": ("日期范围", "Date range"),
    "date_from": ("起", "From"),
    "date_to": ("止", "To"),
    "date_hint": ("如 1937、1937-07-07 或 民国二十六年", "e.g. 1937, 1937-07-07 or 民国二十六年"),
    "apply": ("筛选", "Apply"),
    "sort_relevance": ("相关度", "relevance"),
    "sort_date": ("日期（早→晚）", "date, oldest first"),
    "sort_-date": ("日期（晚→早）", "date, newest first"),
    "search_in_record": ("在本档案中检索", "Search in this record"),
    "hits_in_record": ("共 {n} 处命中：", "{n} hits:"),
    "no_hits_in_record": ("本档案全文中没有“{q}”。", "“{q}” does not occur in this record's text."),
    "hits_on_page": ("第 {page} 页（{n}）", "page {page} ({n})"),
    "cite": ("引用", "Cite"),
    "copy": ("复制", "Copy"),
    "page_images": ("原件图像", "Page images"),
    "page_images_nav": ("图像翻页", "Page images"),
    "previous_page": ("上一页", "Previous page"),
    "next_page": ("下一页", "Next page"),
    "image_page_of": ("第 {n} / {total} 页", "Page {n} of {total}"),
    "reads_rtl": ("自右向左翻页", "turns right to left"),
    "zoom_in": ("放大", "Zoom in"),
    "zoom_out": ("缩小", "Zoom out"),
    "zoom_home": ("整页", "Whole page"),
    "zoom_hits": ("定位命中", "Go to hits"),
    "image_caption": ("第 {n} 页图像（{name}）", "Image of page {n} ({name})"),
    "hits_drawn": ("图上标出 {n} 处命中", "{n} hits marked on the image"),
    "iiif_manifest": ("IIIF 清单", "IIIF manifest"),
    "hit_images": ("命中所在图像：", "Hits on images:"),
    "print": ("打印", "Print"),
}


def current_language() -> str:
    """The language of this request: ``?lang=``, else the cookie, else Chinese."""
    if "lang" not in g:
        wanted = request.args.get("lang") or request.cookies.get(COOKIE) or "zh"
        g.lang = wanted if wanted in LANGUAGES else "zh"
    lang: str = g.lang
    return lang


def translate(key: str, **values: object) -> str:
    zh, en = TEXTS[key]
    text = en if current_language() == "en" else zh
    return text.format(**values) if values else text


def remember_language(response: Response) -> Response:
    """Store an explicit ``?lang=`` choice for later pages."""
    wanted = request.args.get("lang")
    if wanted in LANGUAGES and request.cookies.get(COOKIE) != wanted:
        response.set_cookie(COOKIE, wanted, max_age=365 * 24 * 3600, samesite="Lax",
                            httponly=True)
    return response

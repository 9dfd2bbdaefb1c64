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
    "staff": ("工作人员", "Staff"),
    "staff_sign_in": ("工作人员登录", "Staff sign-in"),
    "sign_in": ("登录", "Sign in"),
    "sign_out": ("退出", "Sign out"),
    "username": ("用户名", "User name"),
    "password": ("密码", "Password"),
    "staff_only": ("仅限本馆工作人员。公众无需登录即可检索开放档案。",
                   "For the archive's staff only. The public can search open records without "
                   "signing in."),
    "login_bad": ("用户名或密码错误。", "Wrong user name or password."),
    "login_disabled": ("该账户已停用。", "This account is disabled."),
    "login_locked": ("该账户因多次登录失败已锁定，请联系管理员解锁。",
                     "This account is locked after repeated failed sign-ins; ask an "
                     "administrator to unlock it."),
    "login_throttled": ("登录失败次数过多，请 {n} 秒后再试。",
                        "Too many failed sign-ins: try again in {n} s."),
    "signed_in_as": ("已登录：{name}（{role}）", "Signed in as {name} ({role})"),
    "role": ("角色", "Role"),
    "role_reviewer": ("开放审核员", "Reviewer"),
    "role_curator": ("专题策展人", "Curator"),
    "role_admin": ("管理员", "Administrator"),
    "staff_search": ("检索全部档案（含未开放）", "Search all records (unopened included)"),
    "staff_users": ("账户管理", "Accounts"),
    "staff_audit": ("审计日志", "Audit log"),
    "account_state": ("状态", "State"),
    "actions": ("操作", "Actions"),
    "change_role": ("更改角色", "Change role"),
    "disabled": ("已停用", "disabled"),
    "locked": ("已锁定", "locked"),
    "active": ("正常", "active"),
    "user_disable": ("停用", "Disable"),
    "user_enable": ("启用", "Enable"),
    "user_unlock": ("解锁", "Unlock"),
    "users_cli": ("新增账户与重置密码请使用命令行：lantai users add / reset-password。",
                  "Add accounts and reset passwords on the command line: lantai users add / "
                  "reset-password."),
    "time": ("时间", "Time"),
    "actor": ("操作人", "Actor"),
    "action": ("动作", "Action"),
    "target": ("对象", "Target"),
    "address": ("地址", "Address"),
    "detail": ("说明", "Detail"),
    "review_queue": ("开放审核", "Open review"),
    "fonds_label": ("全宗", "Fonds"),
    "year_label": ("年度", "Year"),
    "category_label": ("门类", "Category"),
    "flag_label": ("发现", "Finding"),
    "any": ("全部", "any"),
    "flag_age": ("未满年限", "not yet due"),
    "flag_date": ("日期不明或推定", "unknown or inferred date"),
    "flag_classification": ("密级未解密", "classified"),
    "flag_opinion": ("移交单位意见", "transferring unit's opinion"),
    "flag_restriction": ("捐赠/寄存限制", "donor restriction"),
    "flag_id_number": ("身份证号", "ID number"),
    "flag_phone": ("电话号码", "phone number"),
    "flag_bank_card": ("银行卡号", "bank card"),
    "flag_email": ("电子邮箱", "e-mail"),
    "flag_address": ("住址", "address"),
    "flag_person_name": ("敏感语境中的姓名", "name in a sensitive context"),
    "flag_secret_marking": ("密级标志", "secret marking"),
    "flag_term": ("敏感词", "sensitive term"),
    "filter": ("筛选", "Filter"),
    "queue_counts": ("待审 {total} 件：明确可开放 {clear}，需查看 {flagged}，受限 {restricted}",
                     "{total} waiting: {clear} clear, {flagged} to look at, {restricted} "
                     "restricted"),
    "download_xlsx": ("下载本视图（XLSX）", "Download this view (XLSX)"),
    "queue_empty": ("没有待审档案。", "Nothing is waiting for review."),
    "select": ("选择", "Select"),
    "group": ("类别", "Group"),
    "group_clear": ("明确", "clear"),
    "group_flagged": ("需查看", "flagged"),
    "group_restricted": ("受限", "restricted"),
    "findings": ("审核发现", "Findings"),
    "decision": ("审核决定", "Decision"),
    "decision_status": ("结论", "Status"),
    "decision_reason": ("理由", "Reason"),
    "decision_basis": ("依据", "Legal basis"),
    "review_again": ("复审日期（延期开放）", "Review again on (delayed)"),
    "override": ("管理员越权开放理由", "Administrator's override reason"),
    "decide": ("提交决定", "Decide"),
    "decision_done": ("已决定 {n} 件：{status}", "{n} decided: {status}"),
    "refused": ("未能开放", "Refused"),
    "refused_hint": ("仍受限制的档案不能开放；管理员可填写越权理由后开放。",
                     "Records still restricted cannot be opened; an administrator may "
                     "override with a written reason."),
    "missing_records": ("未找到：", "Not found:"),
    "back_to_queue": ("返回审核队列", "Back to the queue"),
    "open_on": ("按年限 {date} 起可开放", "due from {date}"),
    "verified": ("已核验", "verified"),
    "latest_decision": ("最近决定：{status}（{reviewer}：{reason}）",
                        "Latest decision: {status} ({reviewer}: {reason})"),
    "rule": ("规则", "Rule"),
    "evidence": ("证据", "Evidence"),
    "basis": ("依据", "Basis"),
    "effect_block": ("限制", "restriction"),
    "effect_flag": ("提示", "flag"),
    "dismissed": ("已排除（误报）", "dismissed (false positive)"),
    "dismiss": ("排除误报", "Dismiss as false positive"),
    "no_findings": ("没有发现。", "No findings."),
    "evidence_drawn": ("图上标出 {n} 处证据", "{n} pieces of evidence marked"),
    "mark_verified": ("标记为已核验", "Mark verified"),
    "collections": ("专题展览", "Theme collections"),
    "no_collections": ("尚未发布专题。", "No theme has been published yet."),
    "theme_meta": ("{n} 件档案 · 第 {v} 版", "{n} records · version {v}"),
    "latest_version": ("查看最新版（第 {v} 版）", "see the latest (version {v})"),
    "search_in_theme": ("在本专题中检索", "Search this theme"),
    "timeline": ("时间线", "Timeline"),
    "undated": ("年代不详", "Undated"),
    "not_open_banner": ("本档案未开放（{status}）——仅工作人员可见，公众无法检索或访问。",
                        "This record is not open ({status}): only staff can see it; the "
                        "public cannot find or open it."),
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

"""演示数据：附件样张。一张身份证复印件图片（PNG）和一张收条（一页 PDF），各生成一次，
所有演示案件复用同一内容（同一 sha256，上传目录里只存一份）。"""
from __future__ import annotations

import io

CJK_FONT = "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"
SC_INDEX = 2  # the Simplified Chinese face of the collection


def _font(size: int):
    from PIL import ImageFont
    try:
        return ImageFont.truetype(CJK_FONT, size, index=SC_INDEX)
    except OSError:  # fonts-noto-cjk missing: the sample still seeds, its text shows as boxes
        return ImageFont.load_default(size)


def identity_png() -> bytes:
    """A grey ID card copy with the name and number masked, marked as a demo sample."""
    from PIL import Image, ImageDraw
    card = Image.new("RGB", (1000, 640), "#ffffff")
    draw = ImageDraw.Draw(card)
    draw.rounded_rectangle((40, 40, 960, 600), radius=28, fill="#d9d9d9", outline="#8c8c8c", width=4)
    draw.text((80, 70), "身份证复印件", font=_font(44), fill="#262626")
    small, big = _font(30), _font(34)
    rows = [("姓　　名", "×××"), ("性　　别", "×　　民族　××"), ("出　　生", "××××年××月××日"),
            ("住　　址", "示范县××镇××村××组")]
    for i, (label, value) in enumerate(rows):
        draw.text((80, 160 + i * 62), label, font=small, fill="#595959")
        draw.text((240, 160 + i * 62), value, font=small, fill="#262626")
    draw.rectangle((700, 150, 900, 400), fill="#bfbfbf", outline="#8c8c8c", width=2)
    draw.text((760, 255), "照片", font=small, fill="#737373")
    draw.text((80, 470), "公民身份号码", font=small, fill="#595959")
    draw.text((290, 466), "5226************1X", font=big, fill="#262626")
    draw.text((80, 540), "与原件核对无误（演示样张）", font=_font(24), fill="#a8071a")
    out = io.BytesIO()
    card.save(out, "PNG", optimize=True)
    return out.getvalue()


RECEIPT_HTML = """<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><style>
@page { size: A4; margin: 30mm 25mm; }
body { font-family: "Noto Sans CJK SC", "Noto Serif CJK SC", sans-serif; font-size: 15pt; line-height: 2; }
h1 { text-align: center; letter-spacing: 1em; font-size: 24pt; margin-bottom: 1.5em; }
p.body { text-indent: 2em; }
.sign { margin-top: 3em; margin-left: 45%; }
.note { margin-top: 6em; color: #888; font-size: 10pt; }
</style></head><body>
<h1>收条</h1>
<p class="body">今收到×××按照人民调解协议书约定支付的款项人民币×××元整（¥×××），
款项已当面点清，双方就该纠纷所涉款项已结清。</p>
<p class="body">此据。</p>
<div class="sign">收款人（签名、手印）：×××<br>经办调解员：×××<br>××××年××月××日</div>
<p class="note">演示样张：姓名、金额与日期已隐去。</p>
</body></html>"""


def receipt_pdf() -> bytes:
    """A one-page 收条 (receipt of the agreed payment), names and sums masked."""
    from portal.pdf import render_pdf
    return render_pdf(RECEIPT_HTML)

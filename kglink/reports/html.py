"""The page shell every kglink HTML output shares: style, print style, a small inline script
for sortable and filterable tables and for pan, zoom and hover on pictures, badges and dates.

No external assets and no CDN: a page opens from a file, offline, in any browser.
"""
from __future__ import annotations

import html
from datetime import date, datetime
from typing import Any

SEVERITY_ORDER = ("high", "medium", "low")
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")

CSS = """
:root{--high:#b71c1c;--medium:#b45f06;--low:#2e6b30;--ink:#1d2330;--muted:#5a6170;--line:#dde1ea}
*{box-sizing:border-box}
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:1.5rem auto;max-width:1180px;
 padding:0 1rem;color:var(--ink);line-height:1.4}
h1{font-size:1.5rem;margin:.2rem 0 .6rem}h2{font-size:1.15rem;margin-top:2rem;border-bottom:1px solid #ccd}
h3{font-size:1rem;margin:1.2rem 0 .4rem}
a{color:#0b57b0}code{font-size:.85em}
table{border-collapse:collapse;width:100%;font-size:.88rem;table-layout:auto}
th,td{border:1px solid var(--line);padding:.3rem .5rem;text-align:left;vertical-align:top;overflow-wrap:break-word}
th{background:#f2f4f8;position:sticky;top:0;z-index:1;white-space:nowrap}
table.sortable th{cursor:pointer;user-select:none}
table.sortable th[aria-sort=ascending]::after{content:" \\25B2"}table.sortable th[aria-sort=descending]::after{content:" \\25BC"}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}
.note{color:var(--muted);font-size:.85rem}
.badge{display:inline-block;padding:.05rem .45rem;border-radius:.6rem;font-size:.78rem;font-weight:600;
 white-space:nowrap;background:#e8eaf2;color:#333;margin:0 .15rem .1rem 0}
.sev-high{background:var(--high);color:#fff}.sev-medium{background:var(--medium);color:#fff}
.sev-low{background:var(--low);color:#fff}
.unconfirmed{background:#fff3cd;color:#6b4e00;border:1px dashed #b08800}
.flag-wanted,.flag-registered_sex_offender,.flag-shpo{background:#4a148c;color:#fff}
.flag-missing,.flag-repeat_missing{background:#0d47a1;color:#fff}
tr.row-high td:first-child{border-left:5px solid var(--high)}tr.row-medium td:first-child{border-left:5px solid var(--medium)}
tr.row-low td:first-child{border-left:5px solid var(--low)}tr.unconfirmed-row td{background:#fffbea}
.cards{display:flex;flex-wrap:wrap;gap:.6rem;margin:.6rem 0}
.card{border:1px solid var(--line);border-radius:.4rem;padding:.5rem .8rem;min-width:9rem;background:#fafbfd}
.card b{font-size:1.4rem;display:block}
.card.sev-high{border-left:6px solid var(--high);background:#fdf1f1;color:var(--ink)}
.card.sev-medium{border-left:6px solid var(--medium);background:#fdf6ec;color:var(--ink)}
.card.sev-low{border-left:6px solid var(--low);background:#f0f7f0;color:var(--ink)}
.tools{display:flex;gap:.6rem;align-items:center;margin:.4rem 0;flex-wrap:wrap}
.tools input{padding:.25rem .45rem;min-width:16rem;border:1px solid #aab;border-radius:.3rem}
.scroll{max-height:36rem;overflow:auto;border:1px solid var(--line)}
.picture{position:relative;border:1px solid var(--line);border-radius:.4rem;background:#fcfcfe;overflow:hidden}
.picture svg{display:block;width:100%;height:auto;touch-action:none}
.picture .zoom{position:absolute;right:.4rem;top:.4rem;display:flex;gap:.2rem}
.picture .zoom button{width:2rem;height:2rem;border:1px solid #aab;background:#fff;border-radius:.3rem;cursor:pointer}
.tip{position:fixed;pointer-events:none;background:#1d2330;color:#fff;padding:.35rem .55rem;border-radius:.3rem;
 font-size:.8rem;max-width:26rem;display:none;z-index:10;white-space:pre-line}
.chart svg{max-width:100%;height:auto}
.chart{margin:.4rem 0 1rem}
.legend{display:flex;flex-wrap:wrap;gap:.8rem;font-size:.82rem;color:var(--muted);margin:.3rem 0}
.legend span svg{vertical-align:middle;margin-right:.2rem}
.pair{display:grid;grid-template-columns:1fr 1fr;gap:.6rem}
.pair>div{border:1px solid var(--line);border-radius:.4rem;padding:.5rem .7rem;background:#fafbfd}
.cmd{display:flex;gap:.4rem;align-items:center;margin:.2rem 0}
.cmd code{background:#f2f4f8;border:1px solid var(--line);padding:.2rem .4rem;border-radius:.3rem;flex:1}
.card-table th{width:9rem;position:static;white-space:normal}.card-table{font-size:.85rem}
section.item{border-top:2px solid #ccd;padding-top:.5rem;margin-top:1.4rem;break-inside:avoid}
@media print{
 body{margin:0;max-width:none;font-size:10pt}
 .tools,.zoom,.tip,button,.noprint{display:none!important}
 .scroll{max-height:none;overflow:visible;border:none}
 th{position:static}
 h2{break-after:avoid}table,section.item,.picture,.chart{break-inside:avoid}
 a{color:inherit;text-decoration:none}
 .badge,.sev-high,.sev-medium,.sev-low,tr td:first-child{-webkit-print-color-adjust:exact;print-color-adjust:exact}
}
"""

# Sort a table by a header click (numbers as numbers, dates as text in ISO order kept in
# data-sort), filter rows by the words in a box, say how many rows show; pan, zoom and hover
# on any .picture; copy a command. Small on purpose: no library, works from a file.
SCRIPT = r"""
(function(){
function key(td){var s=td.getAttribute('data-sort');if(s===null)s=td.textContent.trim();
 var n=parseFloat(s);return (s!==''&&!isNaN(n)&&/^[-+]?[0-9.]+(e[-+]?[0-9]+)?$/i.test(s))?n:s.toLowerCase();}
document.querySelectorAll('table.sortable').forEach(function(t){
 t.querySelectorAll('thead th').forEach(function(th,i){th.addEventListener('click',function(){
  var asc=th.getAttribute('aria-sort')!=='ascending';
  t.querySelectorAll('thead th').forEach(function(h){h.removeAttribute('aria-sort');});
  th.setAttribute('aria-sort',asc?'ascending':'descending');
  var tb=t.tBodies[0],rows=Array.prototype.slice.call(tb.rows);
  rows.sort(function(a,b){var x=key(a.cells[i]),y=key(b.cells[i]);
   if(typeof x!==typeof y){x=String(x);y=String(y);}return (x<y?-1:x>y?1:0)*(asc?1:-1);});
  rows.forEach(function(r){tb.appendChild(r);});});});});
function count(t){var out=document.getElementById(t.id+'-count');if(!out)return;
 var rows=t.tBodies[0].rows,shown=0;for(var i=0;i<rows.length;i++)if(rows[i].style.display!=='none')shown++;
 out.textContent='showing '+shown+' of '+t.getAttribute('data-total');}
document.querySelectorAll('input[data-filter]').forEach(function(inp){
 var t=document.getElementById(inp.getAttribute('data-filter'));
 inp.addEventListener('input',function(){var words=inp.value.toLowerCase().split(/\s+/).filter(Boolean);
  Array.prototype.forEach.call(t.tBodies[0].rows,function(r){var s=r.textContent.toLowerCase();
   r.style.display=words.every(function(w){return s.indexOf(w)>=0;})?'':'none';});count(t);});
 count(t);});
document.querySelectorAll('select[data-filter-col]').forEach(function(sel){
 var t=document.getElementById(sel.getAttribute('data-table'));var col=+sel.getAttribute('data-filter-col');
 sel.addEventListener('change',function(){Array.prototype.forEach.call(t.tBodies[0].rows,function(r){
  r.style.display=(!sel.value||r.cells[col].textContent.indexOf(sel.value)>=0)?'':'none';});count(t);});});
var tip=document.createElement('div');tip.className='tip';document.body.appendChild(tip);
document.querySelectorAll('[data-tip]').forEach(function(el){
 el.addEventListener('mousemove',function(e){tip.textContent=el.getAttribute('data-tip');tip.style.display='block';
  tip.style.left=Math.min(e.clientX+14,window.innerWidth-tip.offsetWidth-8)+'px';tip.style.top=(e.clientY+14)+'px';});
 el.addEventListener('mouseleave',function(){tip.style.display='none';});});
document.querySelectorAll('.picture').forEach(function(box){
 var svg=box.querySelector('svg'),vb=svg.viewBox.baseVal,home=[vb.x,vb.y,vb.width,vb.height],drag=null;
 function set(x,y,w,h){svg.setAttribute('viewBox',[x,y,w,h].join(' '));}
 function zoom(f,cx,cy){var v=svg.viewBox.baseVal;cx=cx===undefined?v.x+v.width/2:cx;cy=cy===undefined?v.y+v.height/2:cy;
  var w=Math.max(home[2]/8,Math.min(home[2]*4,v.width*f)),k=w/v.width;set(cx-(cx-v.x)*k,cy-(cy-v.y)*k,w,v.height*k);}
 function pt(e){var r=svg.getBoundingClientRect(),v=svg.viewBox.baseVal;
  return [v.x+(e.clientX-r.left)/r.width*v.width,v.y+(e.clientY-r.top)/r.height*v.height];}
 svg.addEventListener('wheel',function(e){e.preventDefault();var p=pt(e);zoom(e.deltaY>0?1.2:1/1.2,p[0],p[1]);},{passive:false});
 svg.addEventListener('pointerdown',function(e){drag=[e.clientX,e.clientY];svg.setPointerCapture(e.pointerId);});
 svg.addEventListener('pointermove',function(e){if(!drag)return;var r=svg.getBoundingClientRect(),v=svg.viewBox.baseVal;
  set(v.x-(e.clientX-drag[0])/r.width*v.width,v.y-(e.clientY-drag[1])/r.height*v.height,v.width,v.height);drag=[e.clientX,e.clientY];});
 svg.addEventListener('pointerup',function(){drag=null;});
 box.querySelectorAll('button[data-zoom]').forEach(function(b){b.addEventListener('click',function(){
  var z=b.getAttribute('data-zoom');if(z==='reset')set.apply(null,home);else zoom(z==='in'?1/1.25:1.25);});});});
document.querySelectorAll('button[data-copy]').forEach(function(b){b.addEventListener('click',function(){
 var text=b.getAttribute('data-copy');if(navigator.clipboard)navigator.clipboard.writeText(text);b.textContent='copied';});});
})();
"""


def esc(x: Any) -> str:
    return html.escape("" if x is None else str(x))


def nice_date(value: str | None) -> str:
    """A date as people write it: 3 Mar 2024, with the time when one is recorded."""
    if not value:
        return ""
    try:
        if len(value) > 10:
            dt = datetime.fromisoformat(value)
            day = f"{dt.day} {MONTHS[dt.month - 1]} {dt.year}"
            return day if (dt.hour, dt.minute) == (0, 0) else f"{day} {dt:%H:%M}"
        d = date.fromisoformat(value[:10])
    except ValueError:
        return value
    return f"{d.day} {MONTHS[d.month - 1]} {d.year}"


def words(code: str | None) -> str:
    """A vocabulary code in words: parent_of -> parent of."""
    return (code or "").replace("_", " ").lower()


def severity_rank(severity: str) -> int:
    return SEVERITY_ORDER.index(severity) if severity in SEVERITY_ORDER else len(SEVERITY_ORDER)


def badge(text: str, cls: str = "", tip: str | None = None) -> str:
    extra = f' title="{esc(tip)}"' if tip else ""
    return f'<span class="badge {esc(cls)}"{extra}>{esc(text)}</span>'


def severity_badge(severity: str) -> str:
    return badge(severity.upper(), f"sev-{severity}")


def flag_badge(flag: str) -> str:
    label = {"registered_sex_offender": "RSO", "shpo": "SHPO"}.get(flag, words(flag))
    return badge(label, f"flag-{flag}", words(flag))


class Cell:
    """A table cell whose HTML is already safe, with an optional sort key and class."""

    def __init__(self, html_text: str, sort: Any = None, cls: str = "") -> None:
        self.html, self.sort, self.cls = html_text, sort, cls


def _cell(c: Any) -> str:
    if isinstance(c, Cell):
        sort = "" if c.sort is None else f' data-sort="{esc(c.sort)}"'
        cls = f' class="{c.cls}"' if c.cls else ""
        return f"<td{cls}{sort}>{c.html}</td>"
    if isinstance(c, (int, float)) and not isinstance(c, bool):
        return f'<td class="num">{esc(c)}</td>'
    return f"<td>{esc(c)}</td>"


def table_html(headers: list[str], rows: list[list[Any]], *, table_id: str | None = None,
               row_classes: list[str] | None = None, filter_label: str | None = None,
               scroll: bool = False) -> str:
    """A table; with an id it sorts by a header click, and with a filter label it has a
    filter box and says how many of its rows show."""
    head = "".join(f"<th>{esc(h)}</th>" for h in headers)
    classes = row_classes or [""] * len(rows)
    body = "".join(f'<tr class="{esc(k)}">' + "".join(_cell(c) for c in r) + "</tr>"
                   for r, k in zip(rows, classes))
    if not rows:
        body = f'<tr><td colspan="{len(headers)}">none</td></tr>'
    attrs = f' id="{esc(table_id)}" class="sortable" data-total="{len(rows)}"' if table_id else ""
    out = f"<table{attrs}><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
    if scroll:
        out = f'<div class="scroll">{out}</div>'
    if table_id and filter_label and rows:
        out = (f'<div class="tools noprint"><input type="search" data-filter="{esc(table_id)}" '
               f'placeholder="{esc(filter_label)}" aria-label="{esc(filter_label)}">'
               f'<span class="note" id="{esc(table_id)}-count">showing {len(rows)} of {len(rows)}</span>'
               f"</div>{out}")
    return out


def picture(svg: str, label: str) -> str:
    """An SVG with pan (drag), zoom (wheel or buttons) and hover details."""
    return (f'<div class="picture" role="figure" aria-label="{esc(label)}">{svg}'
            '<div class="zoom noprint"><button type="button" data-zoom="in" title="zoom in">+</button>'
            '<button type="button" data-zoom="out" title="zoom out">&minus;</button>'
            '<button type="button" data-zoom="reset" title="fit">&#8634;</button></div></div>')


def page(title: str, body: str) -> str:
    return (f"<!doctype html><html lang=en><head><meta charset=utf-8>"
            f'<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{esc(title)}</title><style>{CSS}</style></head><body>{body}"
            f"<script>{SCRIPT}</script></body></html>")

// DOM helpers. Data is only ever inserted as text nodes or attribute values,
// never parsed as HTML.

// h creates an element. Attributes: "class", "dataset" (an object), "on…"
// functions become listeners, true becomes an empty attribute, null/false
// are skipped. Children: nodes, strings (as text), arrays, null.
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  if (attrs) {
    for (const [k, v] of Object.entries(attrs)) {
      if (v == null || v === false) continue;
      if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
      else if (k === 'dataset') Object.assign(el.dataset, v);
      else if (k === 'class') el.className = v;
      else el.setAttribute(k, v === true ? '' : String(v));
    }
  }
  add(el, children);
  return el;
}

// fill replaces el's children (skipping null and false, unlike
// replaceChildren, which would print them).
export function fill(el, ...children) {
  el.replaceChildren();
  return add(el, children);
}

export function add(el, children) {
  for (const c of children) {
    if (c == null || c === false) continue;
    if (Array.isArray(c)) add(el, c);
    else if (c instanceof Node) el.append(c);
    else el.append(document.createTextNode(String(c)));
  }
  return el;
}

// shortHandle keeps the start and the end of a long handle.
export function shortHandle(s) {
  s = s || '';
  return s.length > 24 ? s.slice(0, 10) + '…' + s.slice(-8) : s;
}

export function shortID(s) {
  s = s || '';
  return s.length > 14 ? s.slice(0, 8) + '…' + s.slice(-4) : s;
}

const num = new Intl.NumberFormat('en-US');
export function fmtNum(n) { return num.format(n || 0); }

export function fmtTime(t) {
  if (!t) return '';
  const d = new Date(t);
  if (isNaN(d)) return String(t);
  const now = new Date();
  const opts = { hour: '2-digit', minute: '2-digit', second: '2-digit', hour12: false };
  if (d.toDateString() !== now.toDateString()) Object.assign(opts, { year: 'numeric', month: 'short', day: 'numeric' });
  return d.toLocaleString('en-GB', opts);
}

export function timeEl(t) {
  return h('time', { datetime: t }, fmtTime(t));
}

// byteToCharIndex converts a UTF-8 byte offset into a string index.
export function byteToCharIndex(s, byteOffset) {
  const enc = new TextEncoder();
  let bytes = 0;
  for (let i = 0; i < s.length; i++) {
    if (bytes >= byteOffset) return i;
    const cp = s.codePointAt(i);
    bytes += enc.encode(String.fromCodePoint(cp)).length;
    if (cp > 0xffff) i++;
  }
  return s.length;
}

export async function copyText(text, button) {
  let ok = false;
  try {
    await navigator.clipboard.writeText(text);
    ok = true;
  } catch {
    ok = false;
  }
  if (button) {
    const old = button.textContent;
    button.textContent = ok ? 'Copied' : 'Copy failed: select the text';
    setTimeout(() => { button.textContent = old; }, 1500);
  }
  return ok;
}

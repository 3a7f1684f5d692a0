// Previews: what a device would show for a delivery. Payloads are untrusted;
// everything is read as data and rendered as text.
import { h, timeEl } from './dom.js';

function parseJSON(s) {
  try {
    const v = JSON.parse(s);
    return v && typeof v === 'object' ? v : null;
  } catch {
    return null;
  }
}

function parseXML(s) {
  const doc = new DOMParser().parseFromString(s, 'application/xml');
  if (doc.getElementsByTagName('parsererror').length) return null;
  return doc;
}

function str(v) {
  if (v == null) return '';
  return typeof v === 'string' ? v : JSON.stringify(v);
}

function header(d, name) {
  const hs = d.headers || {};
  const want = name.toLowerCase();
  for (const k of Object.keys(hs)) if (k.toLowerCase() === want) return hs[k];
  return '';
}

function dataEntries(o) {
  if (!o || typeof o !== 'object') return [];
  return Object.entries(o).map(([k, v]) => [k, str(v)]);
}

// preview returns a model of what the device shows:
// {kind: ios|android|windows|web|raw, title, subtitle, body, badge, sound,
//  images, data, note}.
export function preview(d) {
  const p = { kind: 'raw', title: '', subtitle: '', body: '', badge: '', sound: '', images: [], data: [], note: '' };
  const payload = d.payload || '';
  switch (d.platform) {
    case 'apple': return apple(p, payload);
    case 'fcmv1':
    case 'gcm':
    case 'baidu':
    case 'adm':
      return android(p, payload, d.platform);
    case 'windows': return windows(p, payload, header(d, 'X-WNS-Type'));
    case 'windowsphone': return mpns(p, payload);
    case 'browser': return web(p, payload);
  }
  return p;
}

function apple(p, payload) {
  const j = parseJSON(payload);
  if (!j) return { ...p, note: 'Payload is not a JSON object.' };
  const aps = j.aps && typeof j.aps === 'object' ? j.aps : {};
  p.kind = 'ios';
  const a = aps.alert;
  if (typeof a === 'string') p.body = a;
  else if (a && typeof a === 'object') {
    p.title = str(a.title ?? (a['title-loc-key'] ? `[${a['title-loc-key']}]` : ''));
    p.subtitle = str(a.subtitle ?? (a['subtitle-loc-key'] ? `[${a['subtitle-loc-key']}]` : ''));
    p.body = str(a.body ?? (a['loc-key'] ? `[${a['loc-key']}]` : ''));
  }
  if (aps.badge != null) p.badge = str(aps.badge);
  if (aps.sound != null) p.sound = typeof aps.sound === 'object' ? str(aps.sound.name) : str(aps.sound);
  if (!p.title && !p.body && !p.subtitle) {
    p.note = aps['content-available'] == 1 ? 'Background notification (content-available): nothing is shown.' : 'No alert: nothing is shown.';
  }
  p.data = dataEntries(Object.fromEntries(Object.entries(j).filter(([k]) => k !== 'aps')));
  return p;
}

function android(p, payload, platform) {
  const j = parseJSON(payload);
  if (!j) return { ...p, note: 'Payload is not a JSON object.' };
  p.kind = 'android';
  const m = platform === 'fcmv1' && j.message && typeof j.message === 'object' ? j.message : j;
  const n = m.notification && typeof m.notification === 'object' ? m.notification : {};
  const an = m.android && typeof m.android === 'object' && m.android.notification && typeof m.android.notification === 'object' ? m.android.notification : {};
  p.title = str(an.title ?? n.title ?? (platform === 'baidu' ? j.title : ''));
  p.body = str(an.body ?? n.body ?? (platform === 'baidu' ? j.description : ''));
  const img = an.image ?? n.image;
  if (img) p.images.push({ src: str(img), alt: '' });
  if (an.sound ?? n.sound) p.sound = str(an.sound ?? n.sound);
  const data = m.data ?? (m.android && m.android.data);
  p.data = dataEntries(data);
  if (!p.title && !p.body) p.note = 'Data message: the app receives it, nothing is shown.';
  return p;
}

function windows(p, payload, type) {
  type = (type || '').toLowerCase();
  if (type === 'wns/raw') return { ...p, note: 'Raw notification: delivered to the app, not shown.' };
  const doc = parseXML(payload);
  if (!doc) return { ...p, note: 'Payload is not well-formed XML.' };
  if (type === 'wns/badge' || doc.documentElement.localName === 'badge') {
    return { ...p, kind: 'windows', badge: doc.documentElement.getAttribute('value') || '', note: 'Badge update.' };
  }
  p.kind = 'windows';
  // The first binding holds what a toast shows; tiles may have several.
  const binding = doc.getElementsByTagName('binding')[0] || doc.documentElement;
  const texts = Array.from(binding.getElementsByTagName('text')).map(t => t.textContent.trim()).filter(Boolean);
  p.title = texts[0] || '';
  p.body = texts.slice(1).join('\n');
  for (const img of binding.getElementsByTagName('image')) {
    p.images.push({ src: img.getAttribute('src') || '', alt: img.getAttribute('alt') || '', placement: img.getAttribute('placement') || '' });
  }
  const audio = doc.getElementsByTagName('audio')[0];
  if (audio) p.sound = audio.getAttribute('silent') === 'true' ? 'silent' : (audio.getAttribute('src') || 'default');
  if (type === 'wns/tile' || doc.documentElement.localName === 'tile') p.note = 'Tile update.';
  return p;
}

function mpns(p, payload) {
  const doc = parseXML(payload);
  if (!doc) return { ...p, note: 'Payload is not well-formed XML.' };
  const t1 = doc.getElementsByTagNameNS('*', 'Text1')[0];
  const t2 = doc.getElementsByTagNameNS('*', 'Text2')[0];
  if (!t1 && !t2) return p;
  return { ...p, kind: 'windows', title: t1 ? t1.textContent : '', body: t2 ? t2.textContent : '' };
}

function web(p, payload) {
  p.kind = 'web';
  const j = parseJSON(payload);
  if (!j) {
    p.body = payload;
    return p;
  }
  const n = j.notification && typeof j.notification === 'object' ? j.notification : j;
  p.title = str(n.title);
  p.body = str(n.body ?? n.message);
  if (n.image) p.images.push({ src: str(n.image), alt: '' });
  if (n.badge) p.badge = str(n.badge);
  p.data = dataEntries(j.data ?? n.data);
  if (!p.title && !p.body) p.body = payload;
  return p;
}

const appName = { ios: 'YOUR APP', android: 'Your app', windows: 'Your app', web: 'Web push' };

function webOrigin(handle) {
  try {
    return new URL(handle).host;
  } catch {
    return 'Web push';
  }
}

// renderPreview draws the preview of d. compact: title and body only.
export function renderPreview(d, compact = false) {
  const p = preview(d);
  if (p.kind === 'raw') {
    const text = compact && d.payload.length > 160 ? d.payload.slice(0, 160) + '…' : d.payload;
    return h('div', { class: 'pv pv-raw' },
      p.note ? h('p', { class: 'pv-note' }, p.note) : null,
      h('pre', { class: 'p-raw' }, text || '(empty payload)'));
  }
  const lines = [
    p.title ? h('strong', { class: 'p-title' }, p.title) : null,
    p.subtitle ? h('span', { class: 'p-subtitle' }, p.subtitle) : null,
    p.body ? h('span', { class: 'p-body' }, p.body) : null,
    !p.title && !p.body && !p.subtitle && p.note ? h('span', { class: 'pv-note' }, p.note) : null,
  ];
  if (compact) return h('div', { class: `pv pv-${p.kind} pv-compact` }, lines);
  const app = p.kind === 'web' ? webOrigin(d.handle) : appName[p.kind];
  const kindLabel = { ios: 'iOS banner', android: 'Android notification', windows: 'Windows toast', web: 'Web push notification' }[p.kind];
  return h('figure', { class: `pv pv-${p.kind}` },
    h('figcaption', { class: 'sr-only' }, kindLabel),
    h('div', { class: 'pv-head' },
      h('span', { class: 'pv-icon', 'aria-hidden': 'true' },
        p.badge && p.kind === 'ios' ? h('span', { class: 'pv-badge', title: 'Badge' }, p.badge) : null),
      h('span', { class: 'pv-app' }, app),
      d.time ? timeEl(d.time) : null),
    h('div', { class: 'pv-text' }, lines),
    p.images.map(img => h('div', { class: 'pv-image', role: 'img', 'aria-label': `Image ${img.alt || img.src}` },
      h('span', null, 'Image'), h('code', null, img.src))),
    p.title || p.body ? (p.note ? h('p', { class: 'pv-note' }, p.note) : null) : null,
    h('dl', { class: 'pv-extra' },
      p.badge ? [h('dt', null, 'Badge'), h('dd', null, p.badge)] : null,
      p.sound ? [h('dt', null, 'Sound'), h('dd', null, p.sound)] : null),
    p.data.length ? h('table', { class: 'pv-data' },
      h('caption', null, 'Data'),
      h('thead', null, h('tr', null, h('th', { scope: 'col' }, 'Key'), h('th', { scope: 'col' }, 'Value'))),
      h('tbody', null, p.data.map(([k, v]) => h('tr', null, h('th', { scope: 'row' }, k), h('td', null, v))))) : null);
}

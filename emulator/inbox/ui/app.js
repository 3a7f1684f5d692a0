// The inbox page: a hash router over a few views, a live feed from
// server-sent events, and paged lists. Every datum goes through text nodes.
import { h, add, fill, shortHandle, shortID, fmtNum, fmtTime, timeEl, byteToCharIndex, copyText } from './dom.js';
import { renderPreview } from './preview.js';

const PAGE = 50;
const MAX_FEED = 500; // deliveries kept in the DOM by the live feed

const main = document.getElementById('main');
const hubSelect = document.getElementById('hub-select');
const statusEl = document.getElementById('status');
const liveEl = document.getElementById('live');
const resetBtn = document.getElementById('reset');

const state = { hubs: [], hub: '', current: null, firstRoute: true };
window.__inboxReady = {};

function announce(msg) {
  statusEl.textContent = '';
  setTimeout(() => { statusEl.textContent = msg; }, 30);
}

async function api(path, opts = {}) {
  const res = await fetch(path, { headers: { Accept: 'application/json', ...(opts.headers || {}) }, method: opts.method || 'GET' });
  if (res.status === 204) return null;
  const body = await res.json().catch(() => ({ error: `HTTP ${res.status}` }));
  if (!res.ok) {
    const err = new Error(body.error || `HTTP ${res.status}`);
    err.position = body.position ?? -1;
    throw err;
  }
  return body;
}

function qs(params) {
  const u = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== '' && v != null) u.set(k, v);
  const s = u.toString();
  return s ? '?' + s : '';
}

function link(view, params = {}) {
  return '#/' + view + qs({ hub: state.hub, ...params });
}

function parseHash() {
  const raw = location.hash.replace(/^#\/?/, '');
  const [view, query] = raw.split('?');
  return { view: view || 'deliveries', params: new URLSearchParams(query || '') };
}

// ---- hubs --------------------------------------------------------------

async function loadHubs() {
  try {
    state.hubs = await api('api/hubs');
  } catch (e) {
    state.hubs = [];
  }
  const names = state.hubs.map(x => x.name);
  const keep = hubSelect.value;
  hubSelect.replaceChildren(h('option', { value: '' }, 'All hubs'), ...names.map(n => h('option', { value: n }, n)));
  hubSelect.value = names.includes(keep) ? keep : '';
}

let hubsRefresh = 0;
function refreshHubsSoon() {
  if (hubsRefresh) return;
  hubsRefresh = setTimeout(async () => { hubsRefresh = 0; await loadHubs(); hubSelect.value = state.hub; }, 500);
}

hubSelect.addEventListener('change', () => {
  const { view, params } = parseHash();
  state.hub = hubSelect.value;
  params.delete('hub');
  if (state.hub) params.set('hub', state.hub);
  const keep = view === 'device' ? 'deliveries' : view;
  const q = params.toString();
  location.hash = '#/' + keep + (q ? '?' + q : '');
});

// ---- live feed ---------------------------------------------------------

let queue = [];
let flushTimer = 0;
let es = null;
function connect() {
  if (es) return;
  es = new EventSource('api/events');
  es.addEventListener('ready', () => {
    liveEl.dataset.state = 'live';
    liveEl.textContent = 'Live';
    document.body.dataset.live = 'on';
  });
  es.addEventListener('delivery', ev => {
    let d;
    try { d = JSON.parse(ev.data); } catch { return; }
    queue.push(d);
    if (!flushTimer) flushTimer = setTimeout(flushQueue, 25);
  });
  es.addEventListener('error', () => {
    liveEl.dataset.state = 'offline';
    liveEl.textContent = 'Reconnecting…';
    document.body.dataset.live = 'off';
  });
}

function flushQueue() {
  flushTimer = 0;
  const batch = queue;
  queue = [];
  if (batch.some(d => !state.hubs.some(x => x.name.toLowerCase() === (d.hub || '').toLowerCase()))) refreshHubsSoon();
  if (state.current && state.current.onDeliveries) state.current.onDeliveries(batch);
}

// ---- reset -------------------------------------------------------------

let resetArmed = 0;
resetBtn.addEventListener('click', async () => {
  if (!resetArmed) {
    resetBtn.textContent = 'Confirm reset';
    resetBtn.setAttribute('aria-describedby', 'status');
    announce('Press again to forget every registration, installation and delivery.');
    resetArmed = setTimeout(() => { resetArmed = 0; resetBtn.textContent = 'Reset emulator'; }, 5000);
    return;
  }
  clearTimeout(resetArmed);
  resetArmed = 0;
  resetBtn.textContent = 'Reset emulator';
  try {
    await api('api/reset', { method: 'POST', headers: { 'X-Inbox': '1', 'Content-Type': 'application/json' } });
    announce('Emulator reset.');
    await loadHubs();
    route();
  } catch (e) {
    announce('Reset failed: ' + e.message);
  }
});

// ---- shared pieces -----------------------------------------------------

function viewHeading(text) {
  return h('h2', { id: 'view-title', tabindex: '-1' }, text);
}

function errorBox(e) {
  return h('p', { class: 'error', role: 'alert' }, 'Could not load: ' + e.message);
}

function pager(label, page, onPage) {
  const { total, offset } = page;
  const n = (page.devices || page.deliveries || page.rows).length;
  const from = total ? offset + 1 : 0;
  return h('nav', { class: 'pager', 'aria-label': label },
    h('button', { type: 'button', disabled: offset <= 0, onclick: () => onPage(Math.max(0, offset - PAGE)) }, 'Previous'),
    h('span', { class: 'range' }, `${fmtNum(from)}–${fmtNum(offset + n)} of ${fmtNum(total)}`),
    h('button', { type: 'button', disabled: offset + n >= total, onclick: () => onPage(offset + PAGE) }, 'Next'));
}

function badge(text, cls = '') {
  return h('span', { class: 'badge ' + cls }, text);
}

function platformName(p) {
  return { apple: 'APNs', fcmv1: 'FCM v1', gcm: 'FCM legacy', windows: 'WNS', windowsphone: 'MPNS', adm: 'ADM', baidu: 'Baidu', browser: 'Web push', xiaomi: 'Xiaomi' }[p] || p;
}

function deviceTable(caption, devices, hub) {
  return h('div', { class: 'table-wrap', tabindex: '0', role: 'region', 'aria-label': caption },
    h('table', { class: 'devices' },
      h('caption', { class: 'sr-only' }, caption),
      h('thead', null, h('tr', null,
        ['Kind', 'Platform', 'Handle', 'Tags', 'Templates', 'Ids', 'Inbox'].map(c => h('th', { scope: 'col' }, c)))),
      h('tbody', null, devices.map(d => h('tr', { dataset: { handle: d.handle } },
        h('td', null, d.kind === 'installation' ? 'Installation' : 'Registration'),
        h('td', null, badge(platformName(d.platform), 'pf-' + d.platform)),
        h('td', null, h('code', { title: d.handle }, shortHandle(d.handle))),
        h('td', null, tagList(d.tags)),
        h('td', null, (d.templates || []).map((t, i) => h('details', { class: 'tpl' },
          h('summary', null, t.name || (d.kind === 'registration' ? 'template' : `template ${i + 1}`)),
          h('pre', null, t.body)))),
        h('td', { class: 'ids' },
          d.installationId ? h('div', null, 'inst ', h('code', { title: d.installationId }, shortID(d.installationId))) : null,
          d.registrationId ? h('div', null, 'reg ', h('code', { title: d.registrationId }, shortID(d.registrationId))) : null,
          d.userId ? h('div', null, 'user ', h('code', null, d.userId)) : null),
        h('td', null, h('a', { href: '#/device' + qs({ hub, handle: d.handle }) }, 'Inbox',
          h('span', { class: 'sr-only' }, ' of ' + shortHandle(d.handle)))))))));
}

function tagList(tags) {
  tags = tags || [];
  if (!tags.length) return h('span', { class: 'muted' }, 'none');
  const shown = tags.slice(0, 6);
  return h('ul', { class: 'chips' }, shown.map(t => h('li', null, t)),
    tags.length > shown.length ? h('li', { class: 'more', title: tags.slice(6).join(', ') }, `+${tags.length - 6}`) : null);
}

// ---- views -------------------------------------------------------------

const views = {};

// credentialsText says which push services a hub can reach (never any
// secret): a hub created through hub management needs a credential per
// service; one created on first use delivers everywhere.
function credentialsText(x) {
  const names = (x.credentials || []).join(', ');
  if (x.createdBy !== 'api') return names ? names + ' (first-use hub: every platform delivers)' : 'none needed (first-use hub)';
  return names || 'none: sends fail with InvalidCredentials';
}

views.hubs = async function (params) {
  const hub = state.hub;
  const root = h('div', { class: 'view view-hubs' }, viewHeading('Hubs & devices'));
  main.replaceChildren(root);
  let hubs;
  try { hubs = await api('api/hubs'); } catch (e) { root.append(errorBox(e)); return {}; }
  root.append(h('div', { class: 'table-wrap', role: 'region', 'aria-label': 'Hubs', tabindex: '0' }, h('table', { class: 'hubs' },
    h('caption', { class: 'sr-only' }, 'Hubs'),
    h('thead', null, h('tr', null, ['Hub', 'Registrations', 'Installations', 'Deliveries', 'Credentials'].map(c => h('th', { scope: 'col' }, c)))),
    h('tbody', null, hubs.length ? hubs.map(x => h('tr', { 'aria-current': x.name === hub ? 'true' : null },
      h('th', { scope: 'row' }, h('a', { href: '#/hubs' + qs({ hub: x.name }) }, x.name)),
      h('td', { class: 'num' }, fmtNum(x.registrations)),
      h('td', { class: 'num' }, fmtNum(x.installations)),
      h('td', { class: 'num' }, fmtNum(x.deliveries)),
      h('td', { class: 'creds' }, credentialsText(x)))) :
      h('tr', null, h('td', { colspan: '5', class: 'muted' }, 'No hubs yet: register a device or send a notification.'))))));
  if (!hub) {
    root.append(h('p', { class: 'hint' }, 'Choose a hub (above or in the table) to see its devices.'));
    return {};
  }

  // Devices, searchable and paged.
  const q = params.get('q') || '';
  const devSection = h('section', { class: 'panel', 'aria-labelledby': 'devices-h' }, h('h2', { id: 'devices-h' }, `Devices in ${hub}`));
  const search = h('input', { type: 'search', id: 'device-search', name: 'q', value: q, placeholder: 'tag, handle, installation or user id', autocomplete: 'off' });
  const devList = h('div', { class: 'list', 'aria-live': 'polite', 'aria-busy': 'true' });
  const loadDevices = async (offset) => {
    devList.setAttribute('aria-busy', 'true');
    try {
      const page = await api(`api/hubs/${encodeURIComponent(hub)}/devices` + qs({ q: search.value.trim(), offset, limit: PAGE }));
      fill(devList,
        h('p', { class: 'count' }, `${fmtNum(page.total)} device${page.total === 1 ? '' : 's'}${search.value.trim() ? ' found' : ''}`),
        page.devices.length ? deviceTable(`Devices in ${hub}`, page.devices, hub) : h('p', { class: 'muted' }, 'No devices.'),
        page.total > PAGE ? pager('Device pages', page, loadDevices) : null);
    } catch (e) {
      devList.replaceChildren(errorBox(e));
    }
    devList.setAttribute('aria-busy', 'false');
  };
  devSection.append(
    h('form', { class: 'inline-form', role: 'search', 'aria-label': 'Search devices', onsubmit: ev => {
      ev.preventDefault();
      history.replaceState(null, '', link('hubs', { q: search.value.trim() }));
      loadDevices(0);
    } },
    h('label', { for: 'device-search' }, 'Search devices'), search, h('button', { type: 'submit' }, 'Search')),
    devList);

  // Tag expression.
  const exprSection = h('section', { class: 'panel', 'aria-labelledby': 'expr-h' }, h('h2', { id: 'expr-h' }, 'Evaluate a tag expression'));
  const expr = h('input', { type: 'text', id: 'tag-expr', name: 'expr', value: params.get('expr') || '', placeholder: 'e.g. (sports || news) && !muted', autocomplete: 'off', spellcheck: 'false', 'aria-describedby': 'expr-help' });
  const result = h('div', { id: 'match-result', class: 'list', 'aria-live': 'polite' });
  const evaluate = async (offset) => {
    const text = expr.value;
    if (!text.trim()) { result.replaceChildren(h('p', { class: 'muted' }, 'Type an expression first.')); return; }
    try {
      const page = await api(`api/hubs/${encodeURIComponent(hub)}/match` + qs({ expr: text, offset, limit: PAGE }));
      fill(result,
        h('p', { class: 'count', id: 'match-count' }, `${fmtNum(page.total)} device${page.total === 1 ? '' : 's'} match`),
        page.devices.length ? deviceTable('Matched devices', page.devices, hub) : null,
        page.total > PAGE ? pager('Matched device pages', page, evaluate) : null);
      expr.removeAttribute('aria-invalid');
    } catch (e) {
      expr.setAttribute('aria-invalid', 'true');
      const box = h('div', { class: 'error', role: 'alert' }, h('p', null, e.message));
      if (e.position >= 0) {
        const i = byteToCharIndex(text, e.position);
        box.append(h('pre', { class: 'expr-pos' }, text.slice(0, i), h('mark', null, text.slice(i, i + 1) || ' '), text.slice(i + 1), '\n', ' '.repeat(i) + '^ position ' + e.position));
      }
      result.replaceChildren(box);
    }
  };
  exprSection.append(
    h('form', { class: 'inline-form', 'aria-label': 'Tag expression', onsubmit: ev => {
      ev.preventDefault();
      history.replaceState(null, '', link('hubs', { q: search.value.trim(), expr: expr.value }));
      evaluate(0);
    } },
    h('label', { for: 'tag-expr' }, 'Tag expression'), expr, h('button', { type: 'submit', id: 'tag-eval' }, 'Evaluate')),
    h('p', { id: 'expr-help', class: 'hint' }, 'Operators: !, &&, || and parentheses; system tags $InstallationId:{id} and $UserId:{id}.'),
    result);
  root.append(devSection, exprSection);
  await loadDevices(0);
  if (expr.value.trim()) await evaluate(0);
  return {};
};

views.deliveries = async function (params, register) {
  const filter = { hub: state.hub, handle: params.get('handle') || '', notification: params.get('notification') || '' };
  const root = h('div', { class: 'view view-deliveries' }, viewHeading('Deliveries'));
  main.replaceChildren(root);
  const nidIn = h('input', { type: 'text', id: 'f-notification', value: filter.notification, autocomplete: 'off' });
  const handleIn = h('input', { type: 'text', id: 'f-handle', value: filter.handle, autocomplete: 'off' });
  const apply = (nid, handle) => { location.hash = link('deliveries', { notification: nid, handle }); };
  root.append(h('form', { class: 'filters', role: 'search', 'aria-label': 'Filter deliveries', onsubmit: ev => { ev.preventDefault(); apply(nidIn.value.trim(), handleIn.value.trim()); } },
    h('div', { class: 'field' }, h('label', { for: 'f-notification' }, 'Notification id'), nidIn),
    h('div', { class: 'field' }, h('label', { for: 'f-handle' }, 'Device handle'), handleIn),
    h('div', { class: 'field buttons' }, h('button', { type: 'submit' }, 'Filter'),
      h('button', { type: 'button', onclick: () => apply('', '') }, 'Clear'))));

  const countEl = h('p', { class: 'count', id: 'feed-count' });
  const groupsEl = h('ol', { class: 'groups', id: 'feed', 'aria-labelledby': 'feed-h' });
  const moreBtn = h('button', { type: 'button', class: 'more', hidden: true }, 'Load older');
  const detailEl = h('div', { class: 'detail-body', id: 'detail' }, h('p', { class: 'muted' }, 'Select a delivery to see its preview, headers and exact payload.'));
  root.append(h('div', { class: 'split' },
    h('section', { class: 'feed panel', 'aria-labelledby': 'feed-h' }, h('h3', { id: 'feed-h' }, 'Live feed'), countEl, groupsEl, moreBtn),
    h('section', { class: 'detail panel', 'aria-labelledby': 'detail-h' }, h('h3', { id: 'detail-h', tabindex: '-1' }, 'Delivery'), detailEl)));

  const byID = new Map(); // id -> delivery (displayed)
  let total = 0;
  let selected = params.get('id') || '';

  const updateCount = () => {
    countEl.textContent = total ? `${fmtNum(total)} deliver${total === 1 ? 'y' : 'ies'}${byID.size < total ? `, newest ${fmtNum(byID.size)} shown` : ''}` : 'No deliveries yet. Send a notification: it appears here at once.';
    moreBtn.hidden = byID.size >= total;
  };

  const matches = d => (!filter.hub || (d.hub || '').toLowerCase() === filter.hub.toLowerCase()) &&
    (!filter.handle || d.handle === filter.handle) && (!filter.notification || d.notificationId === filter.notification);

  const item = d => {
    const failed = isFailure(d);
    return h('li', { class: 'dlv-item', dataset: { id: d.id } },
      h('button', { type: 'button', class: 'dlv' + (failed ? ' failed' : ''), 'aria-current': d.id === selected ? 'true' : null, onclick: () => select(d.id, true) },
        h('span', { class: 'dlv-meta' }, badge(platformName(d.platform), 'pf-' + d.platform),
          h('code', { class: 'handle' }, shortHandle(d.handle)),
          failed ? badge(d.outcome, 'fail') : d.outcome === PENDING ? badge('Pending', 'pending') : null),
        renderPreview(d, true)));
  };

  const groupHead = (g) => {
    const d = g.first;
    const aud = d.direct ? 'direct send' : d.audience ? d.audience : 'broadcast';
    return h('div', { class: 'group-head' },
      h('span', { class: 'nid' }, 'Notification ', h('code', { title: d.notificationId }, shortID(d.notificationId))),
      h('span', { class: 'aud' }, 'to ', h('code', null, aud)),
      badge(d.format || '?', 'fmt'),
      d.test ? badge('test', 'test') : null,
      h('span', { class: 'counts' }),
      timeEl(d.time));
  };
  const setCounts = g => {
    const failures = g.failures;
    g.countsEl.textContent = `${g.targets} target${g.targets === 1 ? '' : 's'}${failures ? `, ${failures} failed` : ''}`;
    g.countsEl.classList.toggle('has-fail', failures > 0);
  };
  const newGroup = d => {
    const g = { nid: d.notificationId, first: d, targets: 0, failures: 0 };
    g.list = h('ul', { class: 'dlv-list' });
    const head = groupHead(g);
    g.countsEl = head.querySelector('.counts');
    g.el = h('li', { class: 'group', dataset: { notification: d.notificationId } }, head, g.list);
    g.el._group = g;
    return g;
  };
  const count = (g, d, sign) => {
    g.targets += sign;
    if (isFailure(d)) g.failures += sign;
  };

  // A delivery the push service answered comes again with its id: replace
  // its row (and its detail, if shown).
  const update = d => {
    const old = byID.get(d.id);
    const li = groupsEl.querySelector(`li[data-id="${CSS.escape(d.id)}"]`);
    byID.set(d.id, d);
    if (!li) return;
    const g = li.closest('li.group')._group;
    count(g, old, -1);
    count(g, d, 1);
    setCounts(g);
    li.replaceWith(item(d));
    if (d.id === selected) detailEl.replaceChildren(renderDetail(d));
  };

  // append older deliveries (newest first) at the bottom
  const appendOlder = list => {
    const frag = document.createDocumentFragment();
    let last = groupsEl.lastElementChild ? groupsEl.lastElementChild._group : null;
    const touched = new Set();
    for (const d of list) {
      if (byID.has(d.id)) continue;
      byID.set(d.id, d);
      if (!last || last.nid !== d.notificationId) {
        last = newGroup(d);
        frag.append(last.el);
      }
      last.list.append(item(d));
      count(last, d, 1);
      touched.add(last);
    }
    groupsEl.append(frag);
    touched.forEach(setCounts);
  };

  // prepend newer deliveries (oldest first) at the top
  const prependNewer = list => {
    const touched = new Set();
    for (const d of list) {
      if (byID.has(d.id)) { update(d); continue; }
      byID.set(d.id, d);
      total++;
      let top = groupsEl.firstElementChild ? groupsEl.firstElementChild._group : null;
      if (!top || top.nid !== d.notificationId) {
        top = newGroup(d);
        groupsEl.prepend(top.el);
      }
      top.list.prepend(item(d));
      count(top, d, 1);
      touched.add(top);
    }
    // Keep the DOM small: drop the oldest shown deliveries.
    while (byID.size > MAX_FEED && groupsEl.lastElementChild) {
      const g = groupsEl.lastElementChild._group;
      const li = g.list.lastElementChild;
      if (!li) { g.el.remove(); continue; }
      const d = byID.get(li.dataset.id);
      byID.delete(li.dataset.id);
      li.remove();
      count(g, d, -1);
      touched.add(g);
      if (!g.list.firstElementChild) g.el.remove();
    }
    touched.forEach(setCounts);
    updateCount();
  };

  const loadPage = async () => {
    const page = await api('api/deliveries' + qs({ hub: filter.hub, handle: filter.handle, notification: filter.notification, offset: byID.size, limit: PAGE }));
    total = Math.max(total, page.total);
    appendOlder(page.deliveries);
    updateCount();
  };
  moreBtn.addEventListener('click', () => loadPage().catch(e => root.append(errorBox(e))));

  function select(id, user) {
    const d = byID.get(id);
    if (!d) return;
    selected = id;
    for (const b of groupsEl.querySelectorAll('.dlv[aria-current]')) b.removeAttribute('aria-current');
    const li = groupsEl.querySelector(`li[data-id="${CSS.escape(id)}"] > .dlv`);
    if (li) li.setAttribute('aria-current', 'true');
    detailEl.replaceChildren(renderDetail(d));
    history.replaceState(null, '', link('deliveries', { notification: filter.notification, handle: filter.handle, id }));
    if (user && window.matchMedia('(max-width: 900px)').matches) {
      document.getElementById('detail-h').focus();
    }
  }

  // Arrow keys move between deliveries; Home/End jump.
  groupsEl.addEventListener('keydown', ev => {
    if (!['ArrowDown', 'ArrowUp', 'Home', 'End'].includes(ev.key)) return;
    const all = Array.from(groupsEl.querySelectorAll('.dlv'));
    const i = all.indexOf(document.activeElement);
    if (i < 0) return;
    ev.preventDefault();
    const j = ev.key === 'ArrowDown' ? Math.min(all.length - 1, i + 1) : ev.key === 'ArrowUp' ? Math.max(0, i - 1) : ev.key === 'Home' ? 0 : all.length - 1;
    all[j].focus();
  });

  const pending = [];
  let loaded = false;
  const view = {
    onDeliveries(batch) {
      const mine = batch.filter(matches);
      if (!mine.length) return;
      if (!loaded) { pending.push(...mine); return; }
      if (mine.length > MAX_FEED) {
        total += mine.length - MAX_FEED;
        prependNewer(mine.slice(-MAX_FEED));
      } else {
        prependNewer(mine);
      }
      announce(`${mine.length} new deliver${mine.length === 1 ? 'y' : 'ies'}`);
    },
  };
  register(view);
  try {
    await loadPage();
  } catch (e) {
    root.append(errorBox(e));
  }
  loaded = true;
  if (pending.length) prependNewer(pending.filter(d => !byID.has(d.id)));
  updateCount();
  if (selected) select(selected, false);
  return view;
};

// PENDING is the outcome of a delivery a push service has not answered.
const PENDING = 'Pending';

// isFailure says whether a delivery failed (Pending has not, yet).
function isFailure(d) {
  return Boolean(d.outcome) && d.outcome !== 'Success' && d.outcome !== PENDING;
}

// renderAttempts shows what a real push service answered, attempt by
// attempt (nh emulator --deliver).
function renderAttempts(d) {
  if (!d.attempts || !d.attempts.length) return null;
  return [h('h4', null, 'Push service'),
    simpleTable('Attempts to deliver to the push service', ['Attempt', 'Status', 'HTTP', 'Push service id', 'Reason', 'Retry-After', 'Time'],
      d.attempts.map(a => h('tr', { class: a.status === 'delivered' ? null : 'failed' },
        h('td', { class: 'num' }, String(a.attempt || '')), h('td', null, a.status),
        h('td', { class: 'num' }, a.httpStatus ? String(a.httpStatus) : ''),
        h('td', null, a.pnsId ? h('code', { class: 'wrap' }, a.pnsId) : ''), h('td', null, a.reason || ''),
        h('td', { class: 'num' }, a.retryAfter ? a.retryAfter + ' s' : ''), h('td', null, timeEl(a.time)))))];
}

function renderDetail(d) {
  const failed = isFailure(d);
  const headers = Object.entries(d.headers || {}).sort(([a], [b]) => a.localeCompare(b));
  const copyBtn = h('button', { type: 'button', class: 'small', onclick: ev => copyText(d.payload, ev.currentTarget) }, 'Copy payload');
  const row = (k, v) => v ? [h('dt', null, k), h('dd', null, v)] : null;
  return h('div', { class: 'detail-inner', dataset: { id: d.id } },
    h('h4', null, 'Preview'),
    renderPreview(d, false),
    h('h4', null, 'Target'),
    h('dl', { class: 'meta' },
      row('Notification id', h('code', null, d.notificationId)),
      row('Hub', d.hub),
      row('Platform', platformName(d.platform)),
      row('Handle', h('code', { class: 'wrap' }, d.handle)),
      row('Registration id', d.registrationId && h('code', null, d.registrationId)),
      row('Installation id', d.installationId && h('code', null, d.installationId)),
      row('Format', d.format),
      row('Audience', d.direct ? 'direct send' : (d.audience ? h('code', null, d.audience) : 'broadcast')),
      row('Test send', d.test ? 'yes' : 'no'),
      row('Outcome', failed ? h('span', { class: 'fail-text' }, d.outcome) : d.outcome),
      row('Time', timeEl(d.time))),
    h('p', null, h('a', { href: '#/device' + qs({ hub: d.hub, handle: d.handle }) }, 'This device’s inbox')),
    renderAttempts(d),
    h('h4', null, 'Headers'),
    headers.length ? h('div', { class: 'table-wrap' }, h('table', { class: 'headers' },
      h('caption', { class: 'sr-only' }, 'Headers sent to the push service'),
      h('tbody', null, headers.map(([k, v]) => h('tr', null, h('th', { scope: 'row' }, k), h('td', null, h('code', null, v))))))) :
      h('p', { class: 'muted' }, 'No headers.'),
    h('div', { class: 'payload-head' }, h('h4', null, 'Payload'), copyBtn),
    h('pre', { class: 'payload', tabindex: '0', 'aria-label': 'Payload' }, d.payload || '(empty)'));
}

views.device = async function (params, register) {
  const hub = params.get('hub') || state.hub;
  const handle = params.get('handle') || '';
  const root = h('div', { class: 'view view-device' }, viewHeading('Device inbox'));
  main.replaceChildren(root);
  const info = h('dl', { class: 'meta' }, h('dt', null, 'Hub'), h('dd', null, hub || 'any'), h('dt', null, 'Handle'), h('dd', null, h('code', { class: 'wrap' }, handle)));
  const list = h('ol', { class: 'inbox', id: 'inbox', 'aria-label': 'Notifications, newest first' });
  const countEl = h('p', { class: 'count' });
  const more = h('button', { type: 'button', class: 'more', hidden: true }, 'Show older');
  root.append(info, h('section', { class: 'phone', 'aria-labelledby': 'nc-h' }, h('h3', { id: 'nc-h' }, 'Notification centre'), countEl, list, more));
  const seen = new Set();
  let total = 0;
  const card = d => h('li', { class: 'card', dataset: { id: d.id } },
    renderPreview(d, false),
    isFailure(d) ? h('p', { class: 'fail-text' }, 'Not delivered: ' + d.outcome) : null,
    h('p', { class: 'card-foot' }, h('a', { href: link('deliveries', { notification: d.notificationId, id: d.id }) }, 'Details',
      h('span', { class: 'sr-only' }, ' of notification ' + d.notificationId))));
  const upd = () => {
    countEl.textContent = total ? `${fmtNum(total)} notification${total === 1 ? '' : 's'}` : 'Nothing received yet.';
    more.hidden = seen.size >= total;
  };
  const load = async () => {
    const page = await api('api/deliveries' + qs({ hub, handle, offset: seen.size, limit: PAGE }));
    total = page.total;
    const frag = document.createDocumentFragment();
    for (const d of page.deliveries) if (!seen.has(d.id)) { seen.add(d.id); frag.append(card(d)); }
    list.append(frag);
    upd();
  };
  more.addEventListener('click', () => load().catch(e => root.append(errorBox(e))));
  // Device details, if the hub knows the handle.
  if (hub && handle) {
    api(`api/hubs/${encodeURIComponent(hub)}/devices` + qs({ q: handle, limit: 5 })).then(page => {
      const d = page.devices.find(x => x.handle === handle);
      if (!d) return;
      add(info, [h('dt', null, 'Platform'), h('dd', null, platformName(d.platform)),
        h('dt', null, 'Tags'), h('dd', null, tagList(d.tags)),
        d.installationId ? [h('dt', null, 'Installation id'), h('dd', null, h('code', null, d.installationId))] : null,
        d.userId ? [h('dt', null, 'User id'), h('dd', null, h('code', null, d.userId))] : null]);
    }).catch(() => {});
  }
  let loaded = false;
  const pending = [];
  const prepend = mine => {
    for (const d of mine.filter(x => seen.has(x.id))) { // answered by the push service
      const el = list.querySelector(`li[data-id="${CSS.escape(d.id)}"]`);
      if (el) el.replaceWith(card(d));
    }
    mine = mine.filter(d => !seen.has(d.id));
    for (const d of mine) { seen.add(d.id); total++; list.prepend(card(d)); }
    if (mine.length) upd();
    return mine.length;
  };
  const view = {
    onDeliveries(batch) {
      const mine = batch.filter(d => d.handle === handle && (!hub || (d.hub || '').toLowerCase() === hub.toLowerCase()));
      if (!loaded) { pending.push(...mine); return; }
      const n = prepend(mine);
      if (n) announce(`${n} new notification${n === 1 ? '' : 's'}`);
    },
  };
  register(view);
  try { await load(); } catch (e) { root.append(errorBox(e)); }
  loaded = true;
  prepend(pending);
  return view;
};

function needHub(root) {
  root.append(h('p', { class: 'hint' }, 'Choose a hub in the Hub menu above.'));
}

function simpleTable(caption, cols, rows) {
  return h('div', { class: 'table-wrap', role: 'region', 'aria-label': caption, tabindex: '0' }, h('table', null,
    h('caption', { class: 'sr-only' }, caption),
    h('thead', null, h('tr', null, cols.map(c => h('th', { scope: 'col' }, c)))),
    h('tbody', null, rows)));
}

// pagedTable loads a paged list of rows and keeps it in one box.
async function pagedTable(root, path, render, empty) {
  const box = h('div', { class: 'list' });
  root.append(box);
  const load = async offset => {
    try {
      const page = await api(path + qs({ offset, limit: PAGE }));
      fill(box,
        page.total ? h('p', { class: 'count' }, `${fmtNum(page.total)} in all`) : null,
        page.rows.length ? render(page.rows) : h('p', { class: 'muted' }, empty),
        page.total > PAGE ? pager('Pages', page, load) : null);
    } catch (e) { box.replaceChildren(errorBox(e)); }
  };
  await load(0);
}

views.telemetry = async function () {
  const root = h('div', { class: 'view' }, viewHeading('Telemetry'));
  main.replaceChildren(root);
  if (!state.hub) { needHub(root); return {}; }
  await pagedTable(root, `api/hubs/${encodeURIComponent(state.hub)}/telemetry`, rows =>
    simpleTable(`Telemetry of ${state.hub}`,
      ['Notification id', 'State', 'Format', 'Audience', 'Enqueued', 'Targets', 'Successes', 'Failures', 'Outcomes'],
      rows.map(r => h('tr', null,
        h('td', null, h('a', { href: link('deliveries', { notification: r.notificationId }) }, h('code', null, r.notificationId))),
        h('td', null, r.state), h('td', null, r.format || ''), h('td', null, h('code', null, r.audience || '')),
        h('td', null, r.enqueued ? timeEl(r.enqueued) : ''),
        h('td', { class: 'num' }, fmtNum(r.targets)), h('td', { class: 'num' }, fmtNum(r.successes)), h('td', { class: 'num' }, fmtNum(r.failures)),
        h('td', null, (r.outcomes || []).map(o => h('div', null, `${platformName(o.platform)} ${o.outcome}: ${fmtNum(o.count)}`)))))),
    'No notifications sent to this hub yet.');
  return {};
};

views.scheduled = async function () {
  const root = h('div', { class: 'view' }, viewHeading('Scheduled sends'));
  main.replaceChildren(root);
  if (!state.hub) { needHub(root); return {}; }
  await pagedTable(root, `api/hubs/${encodeURIComponent(state.hub)}/scheduled`, rows =>
    simpleTable(`Scheduled sends of ${state.hub}`, ['Id', 'Scheduled for', 'Audience', 'Format', 'Payload'],
      rows.map(r => h('tr', null, h('td', null, h('code', null, r.id)), h('td', null, timeEl(r.scheduledTime)),
        h('td', null, h('code', null, r.audience || 'broadcast')), h('td', null, r.format),
        h('td', null, h('details', null, h('summary', null, r.payload.length > 40 ? r.payload.slice(0, 40) + '…' : r.payload), h('pre', null, r.payload)))))),
    'No scheduled sends pending.');
  return {};
};

views.connect = async function () {
  const root = h('div', { class: 'view' }, viewHeading('Connection strings'));
  main.replaceChildren(root);
  try {
    const list = await api('api/connection-strings');
    root.append(h('p', { class: 'hint' }, 'Point your back end or the nh CLI at the emulator with one of these.'),
      h('ul', { class: 'connstrs' }, list.map((c, i) => {
        const input = h('input', { type: 'text', readonly: true, id: `cs-${i}`, value: c.value, spellcheck: 'false', onfocus: ev => ev.target.select() });
        return h('li', null, h('label', { for: `cs-${i}` }, c.name),
          h('div', { class: 'copy-row' }, input, h('button', { type: 'button', onclick: ev => copyText(c.value, ev.currentTarget) }, 'Copy', h('span', { class: 'sr-only' }, ' ' + c.name))));
      })));
  } catch (e) { root.append(errorBox(e)); }
  return {};
};

// ---- router ------------------------------------------------------------

let routeSeq = 0;
async function route() {
  const seq = ++routeSeq;
  const { view, params } = parseHash();
  const name = views[view] ? view : 'deliveries';
  const hubParam = params.get('hub');
  state.hub = hubParam != null ? hubParam : (state.hub || '');
  if (state.hub && !Array.from(hubSelect.options).some(o => o.value === state.hub)) hubSelect.append(h('option', { value: state.hub }, state.hub));
  hubSelect.value = state.hub;
  for (const a of document.querySelectorAll('nav.views a')) {
    const on = a.dataset.view === name || (name === 'device' && a.dataset.view === 'deliveries');
    if (on) a.setAttribute('aria-current', 'page'); else a.removeAttribute('aria-current');
    a.setAttribute('href', link(a.dataset.view));
  }
  delete main.dataset.ready;
  state.current = null;
  const register = handler => { if (seq === routeSeq) state.current = handler; };
  const v = await views[name](params, register);
  if (seq !== routeSeq) return;
  state.current = v;
  main.dataset.ready = name;
  window.__inboxReady[name] = performance.now();
  document.title = `${name === 'hubs' ? 'Hubs' : name[0].toUpperCase() + name.slice(1)} · Inbox · Notification Hubs emulator`;
  if (!state.firstRoute) {
    const t = document.getElementById('view-title');
    if (t && !main.contains(document.activeElement)) t.focus();
  }
  state.firstRoute = false;
}

window.addEventListener('hashchange', route);
// Close the stream when the page goes away (also into the back/forward
// cache): browsers allow only a few connections per host over HTTP/1.1.
window.addEventListener('pagehide', () => {
  if (es) { es.close(); es = null; }
});
window.addEventListener('pageshow', ev => {
  if (ev.persisted) { connect(); route(); }
});

(async function start() {
  connect();
  await loadHubs();
  const { params } = parseHash();
  if (!params.has('hub') && state.hubs.length === 1) state.hub = state.hubs[0].name;
  route();
})();

export { fmtTime };

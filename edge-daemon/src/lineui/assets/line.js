// baytrace line screen. Vanilla JS, no build step, nothing from the network but this box.
// The box decides: this page only shows what the server pushes and sends the four buttons.
'use strict';
const S = { lang: localStorage.getItem('lang') || 'zh-CN', msgs: {}, boot: null, view: null, es: null, stopArmed: null };
const $ = (s, el) => (el || document).querySelector(s);
const $$ = (s, el) => Array.from((el || document).querySelectorAll(s));
const t = (k, arg) => { let m = S.msgs[k] || k; return arg !== undefined ? m.replace('{}', arg) : m; };
const num = n => Number(n).toLocaleString('en-US');

async function api(method, path, body) {
  const opt = { method, headers: {} };
  if (body !== undefined) { opt.body = JSON.stringify(body); opt.headers['Content-Type'] = 'application/json'; }
  const r = await fetch(path, opt);
  let j = {};
  try { j = await r.json(); } catch (e) { j = {}; }
  if (r.status === 401 && path !== '/api/login') { showLogin(); }
  return { ok: r.ok, status: r.status, body: j };
}

// ---- language ----
async function setLang(lang) {
  const r = await api('GET', '/api/i18n/' + lang);
  if (!r.ok) return;
  S.lang = lang; S.msgs = r.body; localStorage.setItem('lang', lang);
  document.documentElement.lang = lang;
  $$('[data-i18n]').forEach(el => { el.textContent = t(el.dataset.i18n); });
  $$('.lang').forEach(b => b.classList.toggle('selected', b.dataset.lang === lang));
  if (S.view) render(S.view);
  if (S.rc) renderReconcile(S.rc);
}
function renderLangs() {
  $$('.langs').forEach(box => {
    box.innerHTML = '';
    [['zh-CN', '简'], ['zh-HK', '繁'], ['en', 'EN']].forEach(([code, label]) => {
      const b = document.createElement('button');
      b.className = 'lang small'; b.dataset.lang = code; b.id = 'lang-' + code + (box.closest('#login') ? '-login' : '');
      b.textContent = label; b.onclick = () => setLang(code);
      box.appendChild(b);
    });
  });
}

// ---- login ----
let pin = '';
function showLogin() {
  if (S.es) { S.es.close(); S.es = null; }
  $('#app').classList.add('hidden'); $('#login').classList.remove('hidden'); pin = ''; renderPin();
}
function renderPin() { $('#pin-dots').textContent = '●'.repeat(pin.length) || '\u00a0'; }
$$('.key').forEach(k => k.onclick = async () => {
  const v = k.dataset.key;
  if (v === 'clear') pin = '';
  else if (v === 'ok') {
    const r = await api('POST', '/api/login', { pin });
    pin = '';
    if (r.ok) { $('#pin-error').textContent = ''; await start(); } else { $('#pin-error').textContent = t('err_pin'); }
  } else if (pin.length < 8) pin += v;
  renderPin();
});
$('#logout').onclick = async () => { await api('POST', '/api/logout'); showLogin(); };

// ---- boot ----
async function start() {
  const r = await api('GET', '/api/boot');
  if (!r.ok) { showLogin(); return; }
  S.boot = r.body;
  const i = S.boot.info;
  $('#login').classList.add('hidden'); $('#app').classList.remove('hidden');
  $('#line-name').textContent = i.line_name;
  $('#user-name').textContent = S.boot.user;
  $('#j-product').textContent = i.product + (i.product_code ? ' (' + i.product_code + ')' : '');
  $('#j-batch').textContent = i.batch;
  $('#j-job').textContent = i.job;
  $('#j-template').textContent = i.template;
  $('#j-coder').textContent = i.coder;
  $('#j-target').textContent = num(i.target);
  $('#c-high').textContent = '/ ' + i.high_water;
  render(S.boot.view);
  connectEvents();
}

function connectEvents() {
  if (S.es) S.es.close();
  S.es = new EventSource('/api/events');
  S.es.onmessage = m => { $('#msg').textContent = ''; render(JSON.parse(m.data)); };
  S.es.onerror = () => { $('#msg').textContent = t('conn_lost'); };
}

// ---- the pushed view ----
function setCount(id, n) { const el = $(id); el.dataset.n = n; el.textContent = num(n); }
function render(v) {
  const was = S.view ? S.view.state : null;
  S.view = v;
  const st = $('#state');
  st.dataset.state = v.state; st.textContent = t('st_' + v.state);
  setCount('#c-encoded', v.encoded); setCount('#c-scrapped', v.scrapped);
  setCount('#c-buffered', v.buffered); setCount('#c-rate', v.per_min);
  const pct = v.target ? Math.min(100, Math.floor(v.encoded * 100 / v.target)) : 0;
  $('#progress-bar').style.width = pct + '%';
  $('#progress').textContent = t('progress') + ' ' + pct + '%';
  renderFault(v);
  const show = { start: ['idle', 'stopped', 'failed'], pause: ['running', 'held'], resume: ['paused'], stop: ['running', 'held', 'paused'] };
  Object.keys(show).forEach(b => $('#btn-' + b).classList.toggle('hidden', !show[b].includes(v.state)));
  if (!['running', 'held', 'paused'].includes(v.state)) disarmStop();
  if (['running', 'held', 'resuming'].includes(v.state)) $('#reconcile').classList.add('hidden');
  if (['stopped', 'done', 'failed', 'paused'].includes(v.state) && v.state !== was) loadReconcile();
}
function renderFault(v) {
  const el = $('#fault');
  let text = '', kind = '';
  if (v.error) { kind = 'failed'; text = t('failed_hint', v.error); }
  else if (v.fault) {
    kind = v.fault.kind;
    if (kind === 'coder') {
      const f = v.fault, own = f.text.includes(String(f.code)) ? f.text : f.text + ' (' + f.code + ')';
      text = t('fault_coder', own);
    }
    else if (kind === 'other') text = t('fault_other', v.fault.detail);
    else text = t('fault_' + kind);
  }
  el.dataset.kind = kind; el.textContent = text;
  el.classList.toggle('hidden', !kind);
}

async function loadReconcile() {
  const r = await api('GET', '/api/reconcile');
  if (r.ok) { S.rc = r.body.reconcile; renderReconcile(S.rc); }
}
function renderReconcile(rc) {
  $('#reconcile').classList.remove('hidden');
  ['allocated', 'encoded', 'scrapped', 'unused'].forEach(k => { $('#rc-' + k).textContent = num(rc[k]); });
  const ok = rc.allocated === rc.encoded + rc.scrapped + rc.unused;
  const v = $('#rc-verdict');
  v.textContent = num(rc.allocated) + ' = ' + num(rc.encoded) + ' + ' + num(rc.scrapped) + ' + ' + num(rc.unused) + '  ' + t(ok ? 'rc_balanced' : 'rc_unbalanced');
  v.className = ok ? 'ok' : 'bad';
}

// ---- buttons ----
async function act(action) {
  const r = await api('POST', '/api/control', { action });
  $('#msg').textContent = r.ok ? '' : t(r.body.error || 'err_line_state');
}
function disarmStop() {
  if (S.stopArmed) { clearTimeout(S.stopArmed); S.stopArmed = null; }
  const b = $('#btn-stop'); b.classList.remove('confirm'); b.textContent = t('btn_stop');
}
$('#btn-start').onclick = () => act('start');
$('#btn-pause').onclick = () => act('pause');
$('#btn-resume').onclick = () => act('resume');
// Stop ends the run: a second tap confirms, so a brushed glove does not stop the line.
$('#btn-stop').onclick = () => {
  const b = $('#btn-stop');
  if (!S.stopArmed) {
    b.classList.add('confirm'); b.textContent = t('confirm_stop');
    S.stopArmed = setTimeout(disarmStop, 4000);
    return;
  }
  disarmStop(); act('stop');
};

renderLangs();
setLang(S.lang).then(start);

// baytrace stall box UI. Vanilla JS, no build step, nothing from the network but this box.
// Money and weight are integers (fen, grams) everywhere; the server recomputes and decides.
'use strict';
const S = { lang: localStorage.getItem('lang') || 'zh-CN', msgs: {}, boot: null, lines: [], fees: [],
  pay: 'cash', count: 1, weight: { grams: 0, ok: false, stable: false, connected: false }, photos: [], tab: 'sale' };
const $ = (s, el) => (el || document).querySelector(s);
const $$ = (s, el) => Array.from((el || document).querySelectorAll(s));
const t = (k, arg) => { let m = S.msgs[k] || k; return arg !== undefined ? m.replace('{}', arg) : m; };

function yuan(fen) {
  const neg = fen < 0, a = Math.abs(fen);
  return (neg ? '-' : '') + Math.floor(a / 100) + '.' + String(a % 100).padStart(2, '0');
}
function fenOf(text) { // "12.3" → 1230; null when not an amount
  const m = /^(-?)(\d{1,9})(?:\.(\d{1,2}))?$/.exec(String(text).trim());
  if (!m) return null;
  const v = parseInt(m[2], 10) * 100 + parseInt((m[3] || '0').padEnd(2, '0'), 10);
  return m[1] ? -v : v;
}
function kg(grams) { return Math.floor(grams / 1000) + '.' + String(Math.abs(grams) % 1000).padStart(3, '0'); }
function jin(grams) { const c = Math.round(grams / 5); return Math.floor(c / 100) + '.' + String(Math.abs(c) % 100).padStart(2, '0'); }
function lineAmount(l) { // preview only: the same half-up rounding as the server
  if (l.label) return l.amount; // a scale label's amount is what the server records
  if (l.unit === 'item') return l.price * l.count;
  const per = l.unit === 'jin' ? 500 : 1000;
  return Math.floor((l.price * l.grams * 2 + per) / (2 * per));
}

async function api(method, path, body) {
  const opt = { method, headers: {} };
  if (body instanceof Blob) { opt.body = body; opt.headers['Content-Type'] = body.type || 'application/octet-stream'; }
  else if (body !== undefined) { opt.body = JSON.stringify(body); opt.headers['Content-Type'] = 'application/json'; }
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
  $$('[data-i18n-ph]').forEach(el => { el.placeholder = t(el.dataset.i18nPh); });
  $$('.lang').forEach(b => b.classList.toggle('selected', b.dataset.lang === lang));
  if (S.boot) { renderProducts(); renderLines(); renderLabelMsg(); renderPrinter(S.printer); renderWeight(); if (S.tab === 'records') loadRecords(); if (S.tab === 'report') loadCash(); if (S.tab === 'ledger') { fillLedgerFilter(); loadLedger(); } }
  if (!$('#board').classList.contains('hidden')) loadBoard();
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
function showLogin() { $('#app').classList.add('hidden'); $('#login').classList.remove('hidden'); pin = ''; renderPin(); }
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

// ---- boot ----
async function start() {
  const r = await api('GET', '/api/boot');
  if (!r.ok) { showLogin(); return; }
  S.boot = r.body;
  $('#login').classList.add('hidden'); $('#app').classList.remove('hidden');
  $('#stall-name').textContent = (S.boot.stall.no ? S.boot.stall.no + ' ' : '') + S.boot.stall.name;
  $('#stall-market').textContent = S.boot.stall.market;
  $('#user-name').textContent = S.boot.user;
  document.body.dataset.role = S.boot.role;
  S.weight = S.boot.weight; S.printer = S.boot.printer;
  renderProducts(); renderCustomers(); renderSuppliers(); renderRegions(); renderLines(); renderLabelMsg();
  renderWeight(); renderPrinter(S.printer);
  connectEvents();
  showTab(S.tab);
  if (localStorage.getItem('board') === '1') showBoard();
}

function connectEvents() {
  if (S.es) S.es.close();
  S.es = new EventSource('/api/events');
  S.es.onmessage = m => {
    const ev = JSON.parse(m.data);
    if (ev.type === 'weight') { S.weight = ev; renderWeight(); }
    else if (ev.type === 'printer') { renderPrinter(ev.state); }
    else if (ev.type === 'scan') { onScan(ev.text); }
  };
}

function renderWeight() {
  const w = S.weight, el = $('#weight');
  el.classList.toggle('stable', !!w.ok); el.classList.toggle('unstable', !w.ok);
  el.dataset.grams = w.grams; el.dataset.ok = w.ok ? '1' : '0';
  $('#weight-kg').textContent = w.connected ? kg(w.grams) + ' kg' : t('scale_offline');
  $('#weight-jin').textContent = w.connected ? ' ' + jin(w.grams) + ' ' + t('jin') : '';
}
function renderPrinter(state) {
  S.printer = state; const el = $('#printer');
  el.dataset.state = state; el.textContent = t('printer') + ': ' + t('printer_' + state);
}

// ---- tabs ----
function showTab(name) {
  if (name === 'report' && S.boot.role !== 'owner') name = 'sale';
  S.tab = name;
  $$('.tab').forEach(b => b.classList.toggle('active', b.dataset.tab === name));
  $$('.tab-body').forEach(s => s.classList.toggle('hidden', s.id !== 'tab-' + name));
  if (name === 'credit') loadCredit();
  if (name === 'ledger') { fillLedgerFilter(); loadLedger(); loadTickets(); }
  if (name === 'report') { loadReport(); loadCash(); }
  if (name === 'records') loadRecords();
}
$$('.tab').forEach(b => b.onclick = () => showTab(b.dataset.tab));
$('#logout').onclick = async () => { await api('POST', '/api/logout'); if (S.es) S.es.close(); showLogin(); };

// ---- sale ----
function unitLabel(u) { return t('per_' + u); }
function renderProducts() {
  const box = $('#products'); box.innerHTML = '';
  S.boot.products.forEach(p => {
    const b = document.createElement('button');
    b.className = 'product'; b.dataset.product = p.name;
    b.innerHTML = '<b></b><small></small>';
    b.querySelector('b').textContent = p.name;
    b.querySelector('small').textContent = yuan(p.price_fen) + ' ' + unitLabel(p.unit);
    // 当日进货 at the product key: today's batch and origin.
    const today = (S.boot.today || {})[p.name];
    if (today) {
      const i = document.createElement('i'); i.className = 'today';
      i.textContent = t('today_in') + ' ' + today.batch + (today.origin ? ' · ' + today.origin : '');
      b.appendChild(i); b.dataset.batch = today.batch;
    }
    if (p.plu) b.dataset.plu = p.plu;
    b.onclick = () => addProduct(p);
    box.appendChild(b);
  });
}
$$('.count-btn').forEach(b => b.onclick = () => { S.count = parseInt(b.dataset.n, 10); $('#count-n').textContent = S.count; });

function addProduct(p) {
  clearErrors('#tab-sale');
  if (p.unit === 'item') {
    S.lines.push({ product: p.name, unit: 'item', price: p.price_fen, count: S.count });
    S.count = 1; $('#count-n').textContent = 1;
  } else {
    if (!S.weight.ok || S.weight.grams <= 0) { $('#sale-errors').textContent = t('err_weight_unstable'); return; }
    S.lines.push({ product: p.name, unit: p.unit, price: p.price_fen, grams: S.weight.grams });
  }
  renderLines();
}
function renderLines() {
  const box = $('#lines'); box.innerHTML = '';
  let total = 0;
  S.lines.forEach((l, i) => {
    const a = lineAmount(l); total += a;
    const row = document.createElement('div'); row.className = 'line'; row.dataset.field = 'lines[' + i + ']';
    const qty = l.unit === 'item' ? '×' + l.count : kg(l.grams) + 'kg';
    row.innerHTML = '<span class="name"></span><span class="qty"></span><span class="price"></span><b></b><button class="small del">✕</button>';
    row.querySelector('.name').textContent = l.product;
    if (l.label) { // from a scale label: say so, and keep the barcode for the tests and 台账
      row.dataset.label = l.label; row.classList.add('from-label');
      const tag = document.createElement('small'); tag.className = 'tag'; tag.textContent = t('label_tag');
      row.querySelector('.name').appendChild(tag);
    }
    row.querySelector('.qty').textContent = qty;
    row.querySelector('.price').textContent = yuan(l.price) + ' ' + unitLabel(l.unit);
    row.querySelector('b').textContent = yuan(a);
    row.querySelector('.del').onclick = () => { S.lines.splice(i, 1); renderLines(); };
    box.appendChild(row);
  });
  const fb = $('#fees'); fb.innerHTML = '';
  S.fees.forEach((f, i) => {
    const v = fenOf(f.amount); if (v !== null) total += v;
    const row = document.createElement('div'); row.className = 'line fee'; row.dataset.field = 'fees[' + i + ']';
    row.innerHTML = '<span class="name"></span><b></b><button class="small del">✕</button>';
    row.querySelector('.name').textContent = f.name; row.querySelector('b').textContent = f.amount;
    row.querySelector('.del').onclick = () => { S.fees.splice(i, 1); renderLines(); };
    fb.appendChild(row);
  });
  $('#total').textContent = yuan(total);
}
$('#fee-add').onclick = () => {
  const name = $('#fee-name').value.trim(), amount = $('#fee-amount').value.trim();
  if (!name || !amount) return;
  S.fees.push({ name, amount }); $('#fee-name').value = ''; $('#fee-amount').value = ''; renderLines();
};
$$('.pay').forEach(b => b.onclick = () => {
  S.pay = b.dataset.pay; $$('.pay').forEach(x => x.classList.toggle('selected', x === b));
});
function renderCustomers() {
  [['#customer', true], ['#repay-customer', false]].forEach(([sel, none]) => {
    const s = $(sel); const cur = s.value; s.innerHTML = '';
    if (none) { const o = document.createElement('option'); o.value = ''; o.textContent = t('no_customer'); s.appendChild(o); }
    S.boot.customers.forEach(c => { const o = document.createElement('option'); o.value = c.id; o.textContent = c.name; s.appendChild(o); });
    if (cur) s.value = cur;
  });
}
$('#add-customer').onclick = async () => {
  const name = $('#new-customer').value.trim(); if (!name) return;
  const r = await api('POST', '/api/customers', { name });
  if (r.ok) { S.boot.customers.push(r.body); renderCustomers(); $('#customer').value = r.body.id; $('#new-customer').value = ''; }
};

function clearErrors(scope) { $$(scope + ' .err').forEach(e => e.remove()); $$(scope + ' .field-error').forEach(e => e.textContent = ''); }
// Put each refusal next to its field; fields are matched by data-field (a prefix for lines).
function showErrors(scope, errors, fallback) {
  errors.forEach(e => {
    const msg = t(e.key, e.arg);
    let el = $(scope + ' [data-field="' + e.field + '"]');
    if (!el) { const m = /^(lines|fees)\[(\d+)\]/.exec(e.field); if (m) el = $(scope + ' [data-field="' + m[1] + '[' + m[2] + ']"]'); }
    const d = document.createElement('div'); d.className = 'err'; d.dataset.for = e.field; d.dataset.key = e.key; d.textContent = msg;
    if (el) el.insertAdjacentElement('afterend', d);
    else {
      // A success message left there is stale now, and its key would overwrite the error on
      // the next language switch.
      const f = $(fallback);
      if (f.dataset.i18n) { f.textContent = ''; delete f.dataset.i18n; }
      f.appendChild(d);
    }
  });
}

// A status message by catalogue key: `setLang` re-translates it like the static labels.
function sayKey(sel, key) {
  const el = $(sel);
  el.textContent = t(key);
  el.dataset.i18n = key;
}

$('#print').onclick = async () => {
  clearErrors('#tab-sale');
  const cust = $('#customer');
  const body = {
    // A label line sends its barcode: the server reads it again and checks the rest against it.
    lines: S.lines.map(l => Object.assign(l.unit === 'item' ? { product: l.product, count: l.count } : { product: l.product, grams: l.grams },
      l.label ? { label: l.label } : {})),
    fees: S.fees, payment: S.pay,
    customer_id: cust.value || null,
    customer_name: cust.value ? cust.options[cust.selectedIndex].textContent : null,
  };
  const btn = $('#print'); btn.disabled = true;
  const r = await api('POST', '/api/sale', body);
  btn.disabled = false;
  if (r.status === 422) { showErrors('#tab-sale', r.body.errors || [], '#sale-errors'); return; }
  if (!r.ok) { $('#sale-errors').textContent = t(r.body.error || 'err_store'); return; }
  S.lines = []; S.fees = []; renderLines();
  S.labelMsg = null; renderLabelMsg();
  S.pay = 'cash'; $$('.pay').forEach(x => x.classList.toggle('selected', x.dataset.pay === 'cash'));
  cust.value = '';
  showLastSale(r.body);
};
function showLastSale(d) {
  const box = $('#last-sale');
  box.dataset.code = d.code; box.dataset.url = d.url; box.dataset.seq = d.seq; box.dataset.printed = d.printed ? '1' : '0';
  box.className = 'last-sale ' + (d.printed ? 'ok' : 'unprinted');
  box.innerHTML = '<div class="what"></div><div class="code"></div>';
  box.querySelector('.what').textContent = t('sale_recorded', d.ticket_no) + ' ¥' + d.total + (d.printed ? '' : ' — ' + t('unprinted'));
  box.querySelector('.code').textContent = d.code;
  if (!d.printed) {
    const b = document.createElement('button'); b.id = 'reprint'; b.className = 'big'; b.textContent = t('reprint');
    b.onclick = async () => { const r = await api('POST', '/api/sale/' + d.seq + '/reprint'); if (r.ok) showLastSale(r.body); };
    box.appendChild(b);
  }
}

// ---- credit ----
async function loadCredit() {
  const r = await api('GET', '/api/credit'); if (!r.ok) return;
  const tb = $('#balances'); tb.innerHTML = '';
  r.body.balances.forEach(b => {
    const tr = document.createElement('tr'); tr.dataset.customer = b.name; tr.dataset.owed = b.owed;
    [b.name, b.credit, b.repaid, b.owed, b.age_days === null ? '—' : b.age_days].forEach((v, i) => {
      const td = document.createElement('td'); td.textContent = v; if (i === 3) td.className = 'owed'; tr.appendChild(td);
    });
    tb.appendChild(tr);
  });
}
$('#repay').onclick = async () => {
  clearErrors('#tab-credit');
  const s = $('#repay-customer');
  if (!s.value) return;
  const r = await api('POST', '/api/repayment', { customer: s.options[s.selectedIndex].textContent, customer_id: s.value,
    amount: $('#repay-amount').value, payment: $('#repay-payment').value });
  if (r.status === 422) { showErrors('#tab-credit', r.body.errors || [], '#repay-msg'); return; }
  if (r.ok) { sayKey('#repay-msg', 'saved'); $('#repay-amount').value = ''; loadCredit(); }
};

// ---- purchase ----
function renderSuppliers() {
  const s = $('[name=supplier]'); const cur = s.value; s.innerHTML = '';
  S.boot.suppliers.forEach(c => { const o = document.createElement('option'); o.value = c.name; o.textContent = c.name; s.appendChild(o); });
  if (cur) s.value = cur;
  const p = $('[name=product]'); p.innerHTML = '';
  S.boot.products.forEach(x => { const o = document.createElement('option'); o.value = x.name; o.textContent = x.name; p.appendChild(o); });
}
function ensureSupplier(name) {
  if (!S.boot.suppliers.some(s => s.name === name)) { S.boot.suppliers.push({ id: '', name }); renderSuppliers(); }
  $('[name=supplier]').value = name;
}
$('#add-supplier').onclick = async () => {
  const name = $('#new-supplier').value.trim(); if (!name) return;
  const r = await api('POST', '/api/suppliers', { name });
  if (r.ok) { S.boot.suppliers.push(r.body); renderSuppliers(); $('[name=supplier]').value = r.body.name; $('#new-supplier').value = ''; }
};
function fillSelect(sel, items, empty) {
  sel.innerHTML = ''; const o = document.createElement('option'); o.value = ''; o.textContent = empty; sel.appendChild(o);
  items.forEach(r => { const x = document.createElement('option'); x.value = r.code; x.textContent = r.name; sel.appendChild(x); });
}
function renderRegions() {
  const R = S.boot.regions;
  fillSelect($('#origin-p'), R.filter(r => r.code.endsWith('0000')), t('province'));
  const upd = () => {
    const p = $('#origin-p').value, c = $('#origin-c').value, d = $('#origin-d').value;
    $('[name=origin_code]').value = d || c || p;
  };
  $('#origin-p').onchange = () => {
    const p = $('#origin-p').value.slice(0, 2);
    let cities = R.filter(r => p && r.code.startsWith(p) && !r.code.endsWith('0000') && r.code.endsWith('00'));
    // Hong Kong and Macao have districts straight under the region: offer those.
    if (!cities.length) cities = R.filter(r => p && r.code.startsWith(p + '00') && !r.code.endsWith('0000'));
    fillSelect($('#origin-c'), cities, t('city'));
    fillSelect($('#origin-d'), [], t('district')); upd();
  };
  $('#origin-c').onchange = () => {
    const cv = $('#origin-c').value, c = cv.endsWith('00') ? cv.slice(0, 4) : '';
    fillSelect($('#origin-d'), R.filter(r => c && r.code.startsWith(c) && !r.code.endsWith('00')), t('district')); upd();
  };
  $('#origin-d').onchange = upd;
  fillSelect($('#origin-c'), [], t('city')); fillSelect($('#origin-d'), [], t('district'));
}
// ---- scale labels (电子秤标签) scanned on the sale screen ----
// The message is kept as key + argument, so a language switch re-renders it.
function renderLabelMsg() {
  const box = $('#label-msg'), m = S.labelMsg;
  box.innerHTML = '';
  if (!m) { box.className = 'msg hint'; box.dataset.key = ''; box.textContent = t('label_hint'); return; }
  box.className = 'msg ' + m.cls; box.dataset.key = m.key; box.textContent = t(m.key, m.arg);
  if (m.again) { // the same barcode twice on one ticket: usually a double scan, so ask
    const b = document.createElement('button'); b.id = 'label-again'; b.className = 'small'; b.textContent = t('label_add_anyway');
    b.onclick = () => { addLabelLine(m.again); };
    box.appendChild(b);
  }
}
function addLabelLine(line) {
  S.lines.push(line); renderLines();
  S.labelMsg = { cls: 'ok', key: 'label_added', arg: line.product + ' ¥' + yuan(line.amount) }; renderLabelMsg();
}
async function onLabel(text) {
  const r = await api('POST', '/api/label', { text });
  if (!r.ok) {
    const e = (r.body.errors || [])[0] || { key: r.body.error || 'err_store' };
    S.labelMsg = { cls: 'refused', key: e.key, arg: e.arg }; renderLabelMsg(); return;
  }
  const L = r.body.line;
  const line = { product: L.product, unit: L.unit, price: L.price, grams: L.grams, count: L.count, amount: L.amount, label: L.label };
  if (S.lines.some(l => l.label === L.label)) {
    S.labelMsg = { cls: 'warn', key: 'label_again', arg: L.product + ' ¥' + yuan(L.amount), again: line }; renderLabelMsg(); return;
  }
  clearErrors('#tab-sale');
  addLabelLine(line);
}

async function onScan(text) {
  if (!$('#board').classList.contains('hidden')) return;
  if (S.tab === 'sale') { onLabel(text); return; }
  if (S.tab !== 'purchase') return;
  const r = await api('POST', '/api/scan', { text });
  const box = $('#scan-result');
  if (!r.ok) {
    box.className = 'msg refused'; box.dataset.key = r.body.error || 'scan_damaged';
    box.textContent = t(box.dataset.key); return;
  }
  const f = r.body.fill, l = f.lines[0];
  box.className = 'msg ok'; box.dataset.key = 'scan_ok'; box.dataset.code = f.upstream_code;
  box.textContent = t('scan_ok', f.supplier);
  const F = $('#purchase-form');
  ensureSupplier(f.supplier);
  if (l.known) F.product.value = l.product;
  F.batch.value = l.batch;
  F.weight.value = l.grams ? kg(l.grams) : '';
  F.count.value = l.count || '';
  F.unit_price.value = l.unit_price; F.price_unit.value = l.price_unit;
  F.amount.value = l.amount;
  F.upstream_code.value = f.upstream_code;
  $('#purchase-form').dataset.origin = l.origin || '';
}
$('#photo').onchange = async () => {
  clearErrors('#tab-purchase');
  const file = $('#photo').files[0]; if (!file) return;
  const r = await api('POST', '/api/photo', file);
  if (r.status === 422) { showErrors('#tab-purchase', r.body.errors || [], '#purchase-errors'); $('#photo').value = ''; return; }
  if (r.ok) { S.photos.push(r.body.digest); const d = document.createElement('div'); d.className = 'photo'; d.textContent = '📷 ' + r.body.digest.slice(0, 8); $('#photos').appendChild(d); }
};
$('#save-purchase').onclick = async () => {
  clearErrors('#tab-purchase');
  const F = $('#purchase-form');
  const certs = [];
  if (F.cert_compliance.value.trim()) certs.push({ kind: 'compliance_certificate', number: F.cert_compliance.value });
  if (F.cert_quarantine.value.trim()) certs.push({ kind: 'animal_quarantine', number: F.cert_quarantine.value });
  const body = {
    supplier: F.supplier.value || '', product: F.product.value || '', batch: F.batch.value,
    plate_number: F.plate_number.value || null, origin_code: F.origin_code.value || null,
    origin: F.dataset.origin || null,
    weight: F.weight.value || null, count: F.count.value ? parseInt(F.count.value, 10) : null,
    unit_price: F.unit_price.value || null, price_unit: F.price_unit.value, amount: F.amount.value || null,
    certificates: certs, upstream_code: F.upstream_code.value || null, photos: S.photos,
  };
  // Certificates are numbered in the order sent; point each error at its own input.
  const r = await api('POST', '/api/purchase', body);
  if (r.status === 422) {
    const names = certs.map(c => c.kind === 'compliance_certificate' ? 'certificates[0].number' : 'certificates[1].number');
    const errs = (r.body.errors || []).map(e => {
      const m = /^certificates\[(\d+)\]/.exec(e.field);
      return m ? Object.assign({}, e, { field: names[parseInt(m[1], 10)] }) : e;
    });
    showErrors('#tab-purchase', errs, '#purchase-errors'); return;
  }
  if (!r.ok) { $('#purchase-errors').textContent = t(r.body.error || 'err_store'); return; }
  sayKey('#purchase-msg', 'saved'); $('#purchase-msg').dataset.seq = r.body.seq;
  F.reset(); F.dataset.origin = ''; S.photos = []; $('#photos').innerHTML = ''; $('#scan-result').textContent = '';
};

// ---- ledger & report ----
async function loadTickets() {
  const r = await api('GET', '/api/tickets?limit=100'); if (!r.ok) return;
  const tb = $('#tickets'); tb.innerHTML = '';
  r.body.tickets.forEach(x => {
    const tr = document.createElement('tr'); tr.dataset.seq = x.seq; if (x.voided) tr.className = 'voided';
    [x.time, x.products, x.total, t('pay_' + ({ wechat_pay: 'wechat', alipay: 'alipay', credit: 'credit', cash: 'cash' }[x.payment] || 'cash')) + (x.buyer ? ' ' + x.buyer : ''), x.code].forEach(v => {
      const td = document.createElement('td'); td.textContent = v; tr.appendChild(td);
    });
    const td = document.createElement('td');
    const rp = document.createElement('button'); rp.className = 'small'; rp.textContent = x.printed ? t('reprint') : t('unprinted') + ' · ' + t('reprint');
    rp.onclick = async () => { await api('POST', '/api/sale/' + x.seq + '/reprint'); loadTickets(); };
    td.appendChild(rp);
    if (S.boot.role === 'owner' && !x.voided) {
      const v = document.createElement('button'); v.className = 'small danger owner-only'; v.textContent = t('void');
      v.onclick = async () => { const reason = prompt(t('void_reason')); if (reason) { await api('POST', '/api/void/' + x.seq, { reason }); loadTickets(); } };
      td.appendChild(v);
    }
    tr.appendChild(td); tb.appendChild(tr);
  });
}
async function loadReport() {
  const r = await api('GET', '/api/report/daily'); if (!r.ok) return;
  const tb = $('#report'); tb.innerHTML = '';
  r.body.by_payment.forEach(x => {
    const tr = document.createElement('tr');
    [t('pay_' + ({ wechat_pay: 'wechat', alipay: 'alipay', credit: 'credit', cash: 'cash' }[x.payment] || 'cash')), x.tickets, x.total].forEach(v => {
      const td = document.createElement('td'); td.textContent = v; tr.appendChild(td);
    });
    tb.appendChild(tr);
  });
}

// ---- 台账 ----
function option(sel, value, text) { const o = document.createElement('option'); o.value = value; o.textContent = text; sel.appendChild(o); }
function fillLedgerFilter() {
  const F = $('#ledger-filter');
  [['product', S.boot.products.map(p => p.name), 'any_product'], ['supplier', [...new Set(S.boot.suppliers.map(s => s.name).concat(S.boot.lot_suppliers || []))], 'any_supplier'],
   ['customer', S.boot.customers.map(c => c.name), 'any_customer']].forEach(([name, items, any]) => {
    const sel = F[name], cur = sel.value; sel.innerHTML = ''; option(sel, '', t(any));
    items.forEach(n => option(sel, n, n)); sel.value = cur;
  });
}
function ledgerQuery() {
  const F = $('#ledger-filter'), q = new URLSearchParams();
  ['from', 'to', 'kind', 'product', 'supplier', 'customer'].forEach(k => { if (F[k].value) q.set(k, F[k].value); });
  return q;
}
function qty(grams, count) { return grams > 0 ? kg(grams) : (count > 0 ? '×' + count : ''); }
async function loadLedger() {
  clearErrors('#tab-ledger');
  const r = await api('GET', '/api/ledger?' + ledgerQuery());
  if (r.status === 422) { showErrors('#ledger-filter', r.body.errors || [], '#ledger-errors'); return; }
  if (!r.ok) return;
  const tb = $('#ledger-rows'); tb.innerHTML = '';
  if (!r.body.rows.length) { const tr = document.createElement('tr'); const td = document.createElement('td'); td.colSpan = 7; td.textContent = t('ledger_empty'); tr.appendChild(td); tb.appendChild(tr); }
  r.body.rows.forEach(x => {
    const tr = document.createElement('tr'); tr.className = 'row-' + x.kind + (x.voided ? ' voided' : '');
    tr.dataset.kind = x.kind; tr.dataset.seq = x.seq; tr.dataset.line = x.line; tr.dataset.product = x.product;
    const src = x.kind === 'sale'
      ? x.sources.map(s => (s.lot ? s.batch + ' / ' + s.supplier : t('no_purchase')) + ' ' + qty(s.grams, s.count) + (s.corrected ? ' (' + t('corrected') + ')' : '')).join('; ')
      : x.batch + (x.origin ? ' · ' + x.origin : '') + (x.certificates.length ? ' · ' + x.certificates.join(' ') : '');
    [x.time, t(x.kind === 'sale' ? 'kind_sale' : 'kind_purchase'), x.product, (x.party || '') + (x.phone ? ' ' + x.phone : ''), qty(x.grams, x.count), x.amount, src].forEach((v, i) => {
      const td = document.createElement('td'); td.textContent = v; if (i === 6) td.className = 'src'; tr.appendChild(td);
    });
    if (x.kind === 'sale' && !x.voided && S.boot.role === 'owner') {
      const b = document.createElement('button'); b.className = 'small fix'; b.textContent = t('correct_sources');
      b.onclick = () => openSources(x); tr.lastChild.appendChild(b);
    }
    tb.appendChild(tr);
  });
}
$('#ledger-search').onclick = loadLedger;
$('#ledger-csv').onclick = () => {
  const q = ledgerQuery(); q.set('lang', S.lang);
  const url = '/api/ledger.csv?' + q;
  $('#ledger-csv').dataset.href = url;
  const a = document.createElement('a'); a.href = url; a.download = 'ledger.csv'; document.body.appendChild(a); a.click(); a.remove();
};
async function openSources(x) {
  const r = await api('GET', '/api/ledger/sale/' + x.seq + '/' + x.line); if (!r.ok) return;
  const P = $('#sources-panel'); P.classList.remove('hidden'); P.dataset.seq = x.seq; P.dataset.line = x.line;
  const weighed = r.body.grams > 0; P.dataset.weighed = weighed ? '1' : '0';
  $('#sources-what').textContent = r.body.product + ' ' + qty(r.body.grams, r.body.count);
  const box = $('#sources-lots'); box.innerHTML = ''; clearErrors('#sources-panel');
  const now = {}; r.body.sources.forEach(s => { now[s.lot] = weighed ? kg(s.grams) : String(s.count); });
  r.body.lots.forEach(l => {
    const row = document.createElement('label'); row.className = 'lot'; row.dataset.lot = l.lot;
    const sp = document.createElement('span');
    sp.textContent = l.day + ' ' + l.batch + ' / ' + l.supplier + ' · ' + t('left') + ' ' + qty(l.left_grams, l.left_count);
    const inp = document.createElement('input'); inp.inputMode = 'decimal'; inp.value = now[l.lot] || ''; inp.placeholder = weighed ? 'kg' : '×';
    row.appendChild(sp); row.appendChild(inp); box.appendChild(row);
  });
}
$('#sources-cancel').onclick = () => $('#sources-panel').classList.add('hidden');
$('#sources-save').onclick = async () => {
  const P = $('#sources-panel'); clearErrors('#sources-panel');
  const weighed = P.dataset.weighed === '1';
  const shares = $$('#sources-lots .lot').map(l => ({ lot: parseInt(l.dataset.lot, 10), v: $('input', l).value.trim() })).filter(s => s.v)
    .map(s => weighed ? { lot: s.lot, kg: s.v } : { lot: s.lot, count: parseInt(s.v, 10) });
  const r = await api('POST', '/api/ledger/attribution', { sale_seq: parseInt(P.dataset.seq, 10), line: parseInt(P.dataset.line, 10), shares, reason: $('#sources-reason').value });
  if (r.status === 422) { showErrors('#sources-panel', r.body.errors || [], '#sources-errors'); return; }
  if (r.ok) { P.classList.add('hidden'); loadLedger(); }
};

// ---- 收支 ----
S.dir = 'expense';
async function loadCash() {
  const [c, s] = await Promise.all([api('GET', '/api/cash/categories'), api('GET', '/api/cash/summary' + ($('#cash-day').value ? '?day=' + $('#cash-day').value : ''))]);
  if (c.ok) { S.cats = c.body; renderCats(); }
  if (s.ok) renderSummary(s.body);
}
function renderCats() {
  const box = $('#cash-cats'); const cur = box.dataset.value; box.innerHTML = '';
  (S.cats[S.dir] || []).forEach(name => {
    const b = document.createElement('button'); b.type = 'button'; b.className = 'cat' + (name === cur ? ' selected' : ''); b.dataset.cat = name; b.textContent = name;
    b.onclick = () => { box.dataset.value = name; renderCats(); };
    box.appendChild(b);
  });
}
$$('.dir').forEach(b => b.onclick = () => { S.dir = b.dataset.dir; $$('.dir').forEach(x => x.classList.toggle('selected', x === b)); $('#cash-cats').dataset.value = ''; renderCats(); });
function renderSummary(d) {
  $('#summary-day').textContent = d.day; $('#sum-income').textContent = d.income; $('#sum-expense').textContent = d.expense; $('#sum-net').textContent = d.net;
  const rows = (sel, list, label) => {
    const tb = $(sel); tb.innerHTML = '';
    list.forEach(x => {
      const tr = document.createElement('tr'); tr.dataset.dir = x.direction; tr.dataset.key = x.key; tr.dataset.fen = x.fen;
      [t(x.direction), label(x.key), x.n, x.amount].forEach(v => { const td = document.createElement('td'); td.textContent = v; tr.appendChild(td); });
      tb.appendChild(tr);
    });
  };
  rows('#sum-category', d.by_category, k => k);
  rows('#sum-payment', d.by_payment, k => t(payKey(k)));
}
function payKey(p) { return { cash: 'pay_cash', wechat_pay: 'pay_wechat', alipay: 'pay_alipay', credit: 'pay_credit' }[p] || 'pay_other'; }
$('#add-category').onclick = async () => {
  clearErrors('#cash-form');
  const r = await api('POST', '/api/cash/category', { direction: S.dir, name: $('#new-category').value });
  if (r.status === 422) { showErrors('#cash-form', r.body.errors || [], '#cash-msg'); return; }
  if (r.ok) { $('#new-category').value = ''; $('#cash-cats').dataset.value = r.body.name; loadCash(); }
};
$('#cash-save').onclick = async () => {
  clearErrors('#cash-form'); const F = $('#cash-form');
  const r = await api('POST', '/api/cash', { direction: S.dir, category: $('#cash-cats').dataset.value || '', amount: F.amount.value, payment: F.payment.value, note: F.note.value });
  if (r.status === 422) { showErrors('#cash-form', r.body.errors || [], '#cash-msg'); return; }
  if (!r.ok) { $('#cash-msg').textContent = t(r.body.error || 'err_store'); return; }
  sayKey('#cash-msg', 'saved'); $('#cash-msg').dataset.seq = r.body.seq; F.amount.value = ''; F.note.value = ''; loadCash();
};
$('#cash-day').onchange = loadCash;

// ---- 资料 ----
S.sub = 'products';
$$('.sub').forEach(b => b.onclick = () => { S.sub = b.dataset.sub; loadRecords(); });
async function loadRecords() {
  if (S.sub === 'staff' && S.boot.role !== 'owner') S.sub = 'products';
  $$('.sub').forEach(b => b.classList.toggle('selected', b.dataset.sub === S.sub));
  $$('.rec').forEach(r => r.classList.toggle('hidden', r.id !== 'rec-' + S.sub));
  if (S.sub === 'products') loadProducts();
  else if (S.sub === 'staff') loadStaff();
  else loadPartners();
}
function cellRow(tb, cells, onEdit) {
  const tr = document.createElement('tr');
  cells.forEach(v => { const td = document.createElement('td'); td.textContent = v; tr.appendChild(td); });
  const td = document.createElement('td');
  if (onEdit) { const b = document.createElement('button'); b.className = 'small edit'; b.textContent = t('edit'); b.onclick = onEdit; td.appendChild(b); }
  tr.appendChild(td); tb.appendChild(tr); return tr;
}
async function loadProducts() {
  const r = await api('GET', '/api/products'); if (!r.ok) return;
  S.boot.products = r.body.products; renderProducts(); renderSuppliers();
  const sel = $('#product-form').code; const cur = sel.value; sel.innerHTML = ''; option(sel, '', '—');
  r.body.categories.forEach(([c, n]) => option(sel, c, c + ' ' + n));
  r.body.library.forEach(i => option(sel, i.code, i.code + ' ' + i.name));
  sel.value = cur; S.library = r.body.library;
  const tb = $('#product-rows'); tb.innerHTML = '';
  r.body.products.forEach(p => {
    const today = (S.boot.today || {})[p.name];
    const lib = p.code ? (r.body.library.find(i => i.code === p.code) || {}).name || (r.body.categories.find(c => c[0] === p.code) || [])[1] || '' : '';
    const tr = cellRow(tb, [p.name, p.code ? p.code + ' ' + lib : '', yuan(p.price_fen) + ' ' + unitLabel(p.unit), p.plu || '', today ? today.batch + (today.origin ? ' · ' + today.origin : '') : ''],
      S.boot.role === 'owner' ? () => editProduct(p) : null);
    tr.dataset.product = p.name; tr.dataset.plu = p.plu || '';
  });
}
function editProduct(p) {
  const F = $('#product-form'); clearErrors('#tab-records');
  F.id.value = p.id; F.name.value = p.name; F.code.value = p.code || ''; F.price.value = yuan(p.price_fen); F.unit.value = p.unit; F.plu.value = p.plu || '';
}
$('#product-form').code.onchange = () => {
  const F = $('#product-form'); const it = (S.library || []).find(i => i.code === F.code.value);
  if (it && !F.name.value) { F.name.value = it.name; F.unit.value = it.unit; }
};
$('#product-new').onclick = () => { $('#product-form').reset(); $('#product-form').id.value = ''; clearErrors('#tab-records'); };
$('#product-save').onclick = async () => {
  const F = $('#product-form'); clearErrors('#tab-records');
  const r = await api('POST', '/api/products', { id: F.id.value || null, name: F.name.value, code: F.code.value || null, price: F.price.value, unit: F.unit.value, plu: F.plu.value || null });
  if (r.status === 422) { showErrors('#product-form', r.body.errors || [], '#rec-msg'); return; }
  if (r.ok) { sayKey('#rec-msg', 'saved'); F.reset(); F.id.value = ''; loadProducts(); }
};
$('#push-scale').onclick = async () => {
  clearErrors('#tab-records'); const m = $('#scale-msg'); m.textContent = '';
  const r = await api('POST', '/api/scale/push');
  if (r.status === 422) { showErrors('#rec-products', (r.body.errors || []).map(e => Object.assign({}, e, { field: e.field === 'plu' ? 'plu-push' : e.field })), '#plu-errors'); return; }
  if (r.ok) { m.className = 'msg ok'; m.dataset.sent = r.body.sent; m.textContent = t('pushed_scale', r.body.sent); }
};
async function loadPartners() {
  const r = await api('GET', '/api/partners'); if (!r.ok) return;
  ['supplier', 'customer'].forEach(role => {
    const tb = $('#' + role + '-rows'); tb.innerHTML = '';
    r.body.partners.filter(p => p.role === role).forEach(p => {
      const tr = cellRow(tb, [p.name, p.phone || ''], () => { const F = $('.partner-form[data-role=' + role + ']'); F.id.value = p.id; F.name.value = p.name; F.phone.value = p.phone || ''; });
      tr.dataset.name = p.name;
    });
  });
}
$$('.partner-form').forEach(F => {
  $('.partner-new', F).onclick = () => { F.reset(); F.id.value = ''; };
  $('.partner-save', F).onclick = async () => {
    clearErrors('#tab-records');
    const role = F.dataset.role;
    const r = await api('POST', '/api/' + role + 's', { id: F.id.value || null, name: F.name.value, phone: F.phone.value || null });
    if (r.status === 422) { showErrors('.partner-form[data-role=' + role + ']', r.body.errors || [], '#rec-msg'); return; }
    if (r.ok) {
      const list = role === 'supplier' ? S.boot.suppliers : S.boot.customers;
      const i = list.findIndex(x => x.id === r.body.id); if (i >= 0) list[i] = r.body; else list.push(r.body);
      renderCustomers(); renderSuppliers(); sayKey('#rec-msg', 'saved'); F.reset(); F.id.value = ''; loadPartners();
    }
  };
});
async function loadStaff() {
  const r = await api('GET', '/api/staff'); if (!r.ok) return;
  const tb = $('#staff-rows'); tb.innerHTML = '';
  r.body.staff.forEach(u => {
    const tr = cellRow(tb, [u.name, t('role_' + (u.role === 'owner' ? 'owner' : 'staff')) + (u.config ? ' · ' + t('in_config') : '')],
      u.config ? null : () => { const F = $('#staff-form'); F.id.value = u.id; F.name.value = u.name; F.role.value = u.role; F.pin.value = ''; });
    tr.dataset.name = u.name;
  });
}
$('#staff-new').onclick = () => { $('#staff-form').reset(); $('#staff-form').id.value = ''; };
$('#staff-save').onclick = async () => {
  const F = $('#staff-form'); clearErrors('#tab-records');
  const r = await api('POST', '/api/staff', { id: F.id.value || null, name: F.name.value, role: F.role.value, pin: F.pin.value || null });
  if (r.status === 422) { showErrors('#staff-form', r.body.errors || [], '#rec-msg'); return; }
  if (r.ok) { sayKey('#rec-msg', 'saved'); F.reset(); F.id.value = ''; loadStaff(); }
};

// ---- 抽检公示: customer-facing; only the owner's PIN leaves it ----
async function loadBoard() {
  const r = await api('GET', '/api/inspections'); if (!r.ok) return;
  $('#board-stall').textContent = S.boot ? S.boot.stall.market + ' ' + (S.boot.stall.no || '') + ' ' + S.boot.stall.name : '';
  const tb = $('#board-rows'); tb.innerHTML = '';
  $('#board-empty').classList.toggle('hidden', r.body.results.length > 0);
  r.body.results.forEach(x => {
    const tr = document.createElement('tr'); tr.className = x.result; tr.dataset.sample = x.sample_no;
    [x.tested_day || '', x.product, x.items.map(i => i.item + (i.value ? ' ' + i.value : '')).join('、'), x.org || ''].forEach(v => { const td = document.createElement('td'); td.textContent = v; tr.appendChild(td); });
    const td = document.createElement('td'); td.className = 'verdict'; td.textContent = t('result_' + (x.result === 'fail' ? 'fail' : 'pass')); tr.appendChild(td);
    tb.appendChild(tr);
  });
}
function showBoard() { localStorage.setItem('board', '1'); $('#board').classList.remove('hidden'); $('#board-pin').classList.add('hidden'); loadBoard(); }
$('#board-open').onclick = showBoard;
let bpin = '';
$('#board-exit').onclick = () => { bpin = ''; $('#board-dots').textContent = '\u00a0'; $('#board-pin-error').textContent = ''; $('#board-pin').classList.remove('hidden'); };
$$('.bkey').forEach(k => k.onclick = async () => {
  const v = k.dataset.key;
  if (v === 'cancel') { $('#board-pin').classList.add('hidden'); bpin = ''; }
  else if (v === 'ok') {
    const r = await api('POST', '/api/board/exit', { pin: bpin }); bpin = '';
    if (r.ok) { localStorage.removeItem('board'); $('#board').classList.add('hidden'); }
    else $('#board-pin-error').textContent = t('err_pin');
  } else if (bpin.length < 8) bpin += v;
  $('#board-dots').textContent = '●'.repeat(bpin.length) || '\u00a0';
});

renderLangs();
setLang(S.lang).then(start);

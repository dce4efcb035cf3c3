// console.test.js — end-to-end test of the web console in Debian's headless
// chromium, driven by playwright-core (never a downloaded browser). It starts
// build/convd on a loopback port with three shipped models, an API key and a
// small body limit, opens the page (public) and enters the key, and checks
// what a person would see against the daemon's own answers for the same
// files: the top label, the CAM heatmap
// and the class mask drawn over the image, an audio answer (uploaded and
// recorded from chromium's fake microphone), a server error shown verbatim,
// and the metrics panel. Screenshots go to $CONVD_UI_OUT.
// Usage: node console.test.js BUILD_DIR   (tests/ui/run.sh calls it)
'use strict';

const fs = require('fs');
const os = require('os');
const path = require('path');
const zlib = require('zlib');
const { spawn } = require('child_process');
const { chromium } = require('playwright-core');

const ROOT = path.resolve(__dirname, '..', '..');
const BUILD = path.resolve(process.argv[2] || path.join(ROOT, 'build'));
const OUT = path.resolve(process.env.CONVD_UI_OUT || path.join(BUILD, 'ui-test'));
const CHROMIUM = process.env.CONVD_CHROMIUM || '/usr/bin/chromium';
const DEVICE = process.env.CONVD_DEVICE || 'cpu';
const DOCS_SHOT = process.env.CONVD_UI_DOCS_SHOT || '';   // also save the CAM shot here
const MODELS = ['shapes-resnet', 'shapes-wavemix-seg', 'kws-dcls'];
const BODY_LIMIT = 256 * 1024;
const STEP_MS = 60000;
const API_KEY = 'ui-test-key-' + process.pid + '-0123456789abcdef';
const AUTH = { Authorization: 'Bearer ' + API_KEY };

const results = [];
let daemon = null, browser = null, tmp = null;

function log(msg) {
  process.stdout.write(msg + '\n');
}

function check(cond, msg) {
  if (!cond)
    throw new Error(msg);
}

function sleep(ms) {
  return new Promise((r) => setTimeout(r, ms));
}

// ---- the daemon ------------------------------------------------------------

async function startDaemon() {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'convd-ui-'));
  const models = path.join(tmp, 'models');
  fs.mkdirSync(models);
  for (const m of MODELS)
    fs.symlinkSync(path.join(ROOT, 'models', m), path.join(models, m));
  const portFile = path.join(tmp, 'port');
  const keys = path.join(tmp, 'keys');
  fs.writeFileSync(keys, API_KEY + '\n', { mode: 0o600 });
  const logFile = fs.openSync(path.join(OUT, 'convd.log'), 'w');
  daemon = spawn(path.join(BUILD, 'convd'), [
    '--models', models, '--host', '127.0.0.1', '--port', '0', '--port-file', portFile,
    '--device', DEVICE, '--log-level', 'info',
    '--set', 'cache_dir=' + path.join(BUILD, 'integration-cache'),
    '--set', 'max_body_bytes=' + BODY_LIMIT, '--set', 'api_keys_file=' + keys,
  ], { stdio: ['ignore', logFile, logFile] });
  const exited = new Promise((r) => daemon.once('exit', (code) => r(code)));
  const deadline = Date.now() + 300000;   // a cold OpenCL cache compiles kernels
  while (Date.now() < deadline) {
    const code = await Promise.race([exited, sleep(500).then(() => undefined)]);
    check(code === undefined, 'convd exited with status ' + code + ' (see convd.log)');
    if (!fs.existsSync(portFile))
      continue;
    const port = Number(fs.readFileSync(portFile, 'utf8').trim());
    try {
      const r = await fetch('http://127.0.0.1:' + port + '/readyz');
      if (r.status === 200)
        return 'http://127.0.0.1:' + port;
    } catch (e) { /* not listening yet */ }
  }
  throw new Error('convd not ready after 300 s');
}

async function stopDaemon() {
  if (!daemon || daemon.exitCode !== null)
    return;
  const exited = new Promise((r) => daemon.once('exit', r));
  daemon.kill('SIGTERM');
  if (await Promise.race([exited.then(() => true), sleep(15000).then(() => false)]) === false)
    daemon.kill('SIGKILL');
}

// What the daemon answers for a file, straight from Node.
async function post(base, model, what, query, file, ctype) {
  const r = await fetch(base + '/v1/models/' + model + '/' + what + query, {
    method: 'POST', headers: Object.assign({ 'Content-Type': ctype }, AUTH),
    body: fs.readFileSync(file),
  });
  return r;
}

// A noise PNG of w x h (incompressible: larger than the body limit).
function noisePng(w, h) {
  const crcTable = new Int32Array(256).map((_, n) => {
    let c = n;
    for (let k = 0; k < 8; k++)
      c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    return c;
  });
  const crc = (buf) => {
    let c = -1;
    for (const b of buf)
      c = crcTable[(c ^ b) & 255] ^ (c >>> 8);
    return (c ^ -1) >>> 0;
  };
  const chunk = (tag, data) => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(data.length);
    const td = Buffer.concat([Buffer.from(tag), data]);
    const c = Buffer.alloc(4);
    c.writeUInt32BE(crc(td));
    return Buffer.concat([len, td, c]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(w, 0);
  ihdr.writeUInt32BE(h, 4);
  ihdr.set([8, 2, 0, 0, 0], 8);
  const raw = Buffer.alloc(h * (1 + 3 * w));
  let seed = 12345;
  for (let i = 0; i < raw.length; i++) {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    raw[i] = i % (1 + 3 * w) === 0 ? 0 : seed >>> 24;
  }
  return Buffer.concat([Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]), chunk('IHDR', ihdr),
    chunk('IDAT', zlib.deflateSync(raw)), chunk('IEND', Buffer.alloc(0))]);
}

// shapes-resnet's requests, errors and batch-size sum/count in /metrics text,
// read independently of the page's own parser.
function resnetMetrics(text) {
  const r = { requests: 0, errors: 0, bsum: 0, bcount: 0 };
  for (const line of text.split('\n')) {
    const m = /^(\w+)\{([^}]*)\} (\S+)$/.exec(line);
    if (!m || !/model="shapes-resnet"/.test(m[2]))
      continue;
    if (m[1] === 'convd_requests_total') {
      r.requests += Number(m[3]);
      if (/code="[45]\d\d"/.test(m[2]))
        r.errors += Number(m[3]);
    } else if (m[1] === 'convd_batch_size_sum') {
      r.bsum += Number(m[3]);
    } else if (m[1] === 'convd_batch_size_count') {
      r.bcount += Number(m[3]);
    }
  }
  return r;
}

// ---- page helpers ----------------------------------------------------------

async function pickModel(page, name) {
  await page.click('#models tbody tr[data-model="' + name + '"]');
  await page.waitForFunction((n) => document.querySelector('#model-name').textContent.startsWith(n), name);
}

// Drops a file on the page as a person dragging it from a file manager
// would, and waits until the page has taken it.
async function dropFile(page, file, type) {
  await page.evaluate(([b64, name, t]) => {
    const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
    const dt = new DataTransfer();
    dt.items.add(new File([bytes], name, { type: t }));
    document.getElementById('drop').dispatchEvent(
      new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }));
  }, [fs.readFileSync(file).toString('base64'), 'dropped-' + path.basename(file), type]);
  await page.waitForFunction((n) => document.getElementById('drop').dataset.file === n,
    'dropped-' + path.basename(file));
}

async function runAction(page, button, what) {
  await page.evaluate(() => { delete document.body.dataset.done; });
  await page.waitForSelector(button + ':not([disabled])');
  await page.click(button);
  await page.waitForFunction(() => document.body.dataset.done, null, { timeout: STEP_MS });
  return page.evaluate(() => document.body.dataset.done);
}

async function shot(page, name) {
  const file = path.join(OUT, name);
  await page.screenshot({ path: file, fullPage: true });
  return file;
}

// The view canvas' pixels, and those of a picture (data URL) drawn at the
// canvas size, compared in the page.
async function canvasVersus(page, dataUrl) {
  return page.evaluate(async (url) => {
    const view = document.getElementById('view');
    const w = view.width, h = view.height;
    const got = view.getContext('2d').getImageData(0, 0, w, h).data;
    const img = new Image();
    img.src = url;
    await img.decode();
    const c = document.createElement('canvas');
    c.width = w;
    c.height = h;
    const g = c.getContext('2d');
    g.imageSmoothingEnabled = false;
    g.drawImage(img, 0, 0, w, h);
    const want = g.getImageData(0, 0, w, h).data;
    return { w: w, h: h, got: Array.from(got), want: Array.from(want) };
  }, dataUrl);
}

function dataUrl(buf, type) {
  return 'data:' + type + ';base64,' + buf.toString('base64');
}

async function setOpacity(page, v) {
  await page.$eval('#opacity', (el, val) => {
    el.value = String(val);
    el.dispatchEvent(new Event('input'));
  }, v);
}

// ---- the steps -------------------------------------------------------------

async function main() {
  fs.mkdirSync(OUT, { recursive: true });
  const base = await startDaemon();
  log('# convd at ' + base);
  browser = await chromium.launch({
    executablePath: CHROMIUM, headless: true,
    args: ['--no-sandbox', '--use-fake-ui-for-media-stream', '--use-fake-device-for-media-stream'],
  });
  const context = await browser.newContext({ viewport: { width: 1280, height: 700 } });
  await context.grantPermissions(['microphone'], { origin: base });
  const page = await context.newPage();
  page.setDefaultTimeout(STEP_MS);
  const pageErrors = [];
  page.on('pageerror', (e) => pageErrors.push('page error: ' + e.message));
  page.on('console', (m) => {
    if (m.type() === 'error' && !/status of 4\d\d/.test(m.text()))
      pageErrors.push('console: ' + m.text());
  });

  const steps = [];
  const step = (name, fn) => steps.push({ name: name, fn: fn });

  step('the page loads without a key and shows the server\'s 401 verbatim', async () => {
    const resp = await page.goto(base + '/');
    check(resp.status() === 200, 'GET / answered ' + resp.status());
    const h = resp.headers();
    check(/default-src 'self'/.test(h['content-security-policy'] || ''), 'no CSP header');
    check(h['x-content-type-options'] === 'nosniff', 'no nosniff header');
    const r = await fetch(base + '/v1/models');
    check(r.status === 401, 'GET /v1/models without a key answered ' + r.status);
    const msg = 'HTTP 401: ' + (await r.json()).error.message;
    await page.waitForSelector('#models-error:not([hidden])');
    const shown = await page.$eval('#models-error', (e) => e.textContent);
    check(shown.startsWith(msg), 'shown "' + shown + '", expected it to start with "' + msg + '"');
    await shot(page, 'no-key.png');
  });

  step('with the key entered the models are listed as /v1/models says', async () => {
    await page.fill('#api-key', API_KEY);
    await page.click('#key-save');
    await page.waitForSelector('#models tbody tr[data-model="kws-dcls"]');
    const stored = await page.evaluate(() => sessionStorage.getItem('convd.apiKey'));
    check(stored === API_KEY, 'the key is not in sessionStorage');
    check(await page.$eval('#models-error', (e) => e.hidden), 'the 401 is still shown');
    const listed = await page.$$eval('#models tbody tr', (rows) =>
      rows.map((r) => Array.from(r.cells).map((c) => c.textContent)));
    const j = await (await fetch(base + '/v1/models', { headers: AUTH })).json();
    check(listed.length === j.models.length, 'rows ' + listed.length + ' != models ' + j.models.length);
    for (const m of j.models) {
      const row = listed.find((r) => r[0] === m.name);
      check(row, 'model ' + m.name + ' not listed');
      check(row[1] === m.task && row[2] === m.input.preprocess.kind && row[3] === m.state,
        'row ' + JSON.stringify(row) + ' does not match ' + m.name);
    }
  });

  step('classify shows the daemon\'s top label and scores', async () => {
    const img = path.join(ROOT, 'models/shapes-resnet/test.png');
    await pickModel(page, 'shapes-resnet');
    await page.setInputFiles('#file', img);
    await page.fill('#top', '3');
    check(await runAction(page, '#do-classify') === 'classify', 'classify did not finish');
    const shown = await page.$$eval('#bars li', (lis) => lis.map((li) => ({
      label: li.querySelector('.label').textContent, score: li.querySelector('.score').textContent,
      bar: li.querySelector('.fill').getBoundingClientRect().width /
        li.querySelector('.track').getBoundingClientRect().width,
    })));
    const j = await (await post(base, 'shapes-resnet', 'classify', '?top=3', img, 'image/png')).json();
    check(shown.length === 3, 'expected 3 bars, saw ' + shown.length);
    check(shown[0].label === j.predictions[0].label,
      'shown label ' + shown[0].label + ' != daemon ' + j.predictions[0].label);
    j.predictions.forEach((p, i) => {
      check(shown[i].label === p.label && shown[i].score === (p.score * 100).toFixed(2) + '%' &&
        Math.abs(shown[i].bar - p.score) < 0.02,
        'bar ' + i + ' ' + JSON.stringify(shown[i]) + ' != ' + JSON.stringify(p));
    });
    const t = await page.$eval('#t-infer', (e) => e.textContent);
    check(/ms$/.test(t), 'no inference time shown: ' + t);
    await shot(page, 'classify.png');
  });

  step('CAM draws the daemon\'s heatmap over the image', async () => {
    check(await runAction(page, '#do-cam') === 'cam', 'cam did not finish');
    await setOpacity(page, 100);
    const img = path.join(ROOT, 'models/shapes-resnet/test.png');
    const r = await post(base, 'shapes-resnet', 'cam', '?format=png', img, 'image/png');
    check(r.status === 200, 'daemon cam answered ' + r.status);
    const heat = Buffer.from(await r.arrayBuffer());
    const cmp = await canvasVersus(page, dataUrl(heat, 'image/png'));
    let maxd = 0;
    for (let i = 0; i < cmp.got.length; i++)
      maxd = Math.max(maxd, Math.abs(cmp.got[i] - cmp.want[i]));
    check(maxd <= 1, 'canvas at opacity 100% differs from the daemon heatmap by ' + maxd);
    await setOpacity(page, 0);
    const plain = await canvasVersus(page, dataUrl(fs.readFileSync(img), 'image/png'));
    maxd = 0;
    for (let i = 0; i < plain.got.length; i++)
      maxd = Math.max(maxd, Math.abs(plain.got[i] - plain.want[i]));
    check(maxd <= 1, 'canvas at opacity 0% is not the image (max diff ' + maxd + ')');
    await setOpacity(page, 55);
    const mixed = await canvasVersus(page, dataUrl(fs.readFileSync(img), 'image/png'));
    let diff = 0;
    for (let i = 0; i < mixed.got.length; i++)
      diff += Math.abs(mixed.got[i] - mixed.want[i]);
    check(diff / mixed.got.length > 5, 'the overlay at 55% barely changes the image');
    const timing = await page.$eval('#t-queue', (e) => e.textContent);
    check(/ms$/.test(timing), 'no queue time from Server-Timing: ' + timing);
    // Once more, for the screenshot: the first CAM of a fresh daemon also
    // builds its device programs.
    check(await runAction(page, '#do-cam') === 'cam', 'second cam did not finish');
    const file = await shot(page, 'cam.png');
    if (DOCS_SHOT)
      fs.copyFileSync(file, DOCS_SHOT);
  });

  step('a dropped image is segmented: the daemon\'s class mask with a legend', async () => {
    const img = path.join(ROOT, 'models/shapes-wavemix-seg/test.png');
    await pickModel(page, 'shapes-wavemix-seg');
    await dropFile(page, img, 'image/png');
    check(await runAction(page, '#do-segment') === 'segment', 'segment did not finish');
    await setOpacity(page, 100);
    const j = await (await post(base, 'shapes-wavemix-seg', 'segment', '', img, 'image/png')).json();
    const mask = Buffer.from(await (await post(base, 'shapes-wavemix-seg', 'segment',
      '?format=png', img, 'image/png')).arrayBuffer());
    const m = await canvasVersus(page, dataUrl(mask, 'image/png'));
    const pic = await canvasVersus(page, dataUrl(fs.readFileSync(img), 'image/png'));
    let bad = 0, drawn = 0;
    for (let p = 0; p < m.w * m.h; p++) {
      const bg = m.want[4 * p] === 0 && m.want[4 * p + 1] === 0 && m.want[4 * p + 2] === 0;
      const want = bg ? pic.want : m.want;
      drawn += bg ? 0 : 1;
      for (let c = 0; c < 3; c++)
        if (Math.abs(m.got[4 * p + c] - want[4 * p + c]) > 1)
          bad++;
    }
    check(drawn > 0, 'the daemon mask has no foreground pixel');
    check(bad === 0, bad + ' channel values differ from the daemon mask over the image');
    const legend = await page.$$eval('#legend li', (lis) => lis.map((li) => li.dataset.index));
    check(JSON.stringify(legend) === JSON.stringify(j.classes.map((c) => String(c.index))),
      'legend ' + legend + ' != classes ' + j.classes.map((c) => c.index));
    await setOpacity(page, 55);
    await shot(page, 'segment.png');
  });

  step('an uploaded WAV is classified as the daemon does', async () => {
    const wav = path.join(ROOT, 'models/kws-dcls/test.wav');
    await pickModel(page, 'kws-dcls');
    await page.setInputFiles('#file', wav);
    await page.fill('#top', '2');
    check(await runAction(page, '#do-classify') === 'classify', 'audio classify did not finish');
    const shown = await page.$$eval('#bars .label', (ls) => ls.map((l) => l.textContent));
    const j = await (await post(base, 'kws-dcls', 'classify', '?top=2', wav, 'audio/wav')).json();
    check(shown[0] === j.predictions[0].label, 'shown ' + shown[0] + ' != daemon ' + j.predictions[0].label);
    await shot(page, 'audio.png');
  });

  step('a recording from the (fake) microphone is sent as a WAV the daemon accepts', async () => {
    await page.click('#record');
    await page.waitForFunction(() => /^recorded /.test(document.getElementById('record-state').textContent) ||
      !document.getElementById('error').hidden, null, { timeout: STEP_MS });
    const err = await page.$eval('#error', (e) => (e.hidden ? '' : e.textContent));
    check(!err, 'recording failed: ' + err);
    check(await runAction(page, '#do-classify') === 'classify', 'recorded clip refused: ' +
      await page.$eval('#error', (e) => e.textContent));
    check((await page.$$('#bars li')).length === 2, 'no predictions for the recording');
  });

  step('a server error is shown verbatim (body over max_body_bytes)', async () => {
    const big = noisePng(400, 400);
    check(big.length > BODY_LIMIT, 'test image too small: ' + big.length);
    const bigFile = path.join(tmp, 'big-noise.png');
    fs.writeFileSync(bigFile, big);
    await pickModel(page, 'shapes-resnet');
    await page.setInputFiles('#file', bigFile);
    check(await runAction(page, '#do-classify') === 'classify-error', 'the oversized upload did not fail');
    const r = await post(base, 'shapes-resnet', 'classify', '?top=3', bigFile, 'image/png');
    const j = await r.json();
    const shown = await page.$eval('#error', (e) => e.textContent);
    check(shown === 'HTTP ' + r.status + ': ' + j.error.message,
      'shown "' + shown + '" != "HTTP ' + r.status + ': ' + j.error.message + '"');
    await shot(page, 'error.png');
  });

  step('the metrics panel agrees with /metrics', async () => {
    const q = await page.evaluate(() => {
      const b = [[0.001, 0], [0.0025, 2], [0.005, 4], [Infinity, 4]];
      return [window.convdConsole.histogramQuantile(0.25, b),
        window.convdConsole.histogramQuantile(0.5, b),
        window.convdConsole.histogramQuantile(1, [[0.1, 1], [Infinity, 3]])];
    });
    check(Math.abs(q[0] - 0.00175) < 1e-12 && Math.abs(q[1] - 0.0025) < 1e-12 && q[2] === 0.1,
      'histogramQuantile gave ' + q);
    // No request for shapes-resnet is made from here on, so its row must
    // come to show what /metrics says (read again while the panel catches
    // up: a request is counted when its connection completes).
    const sel = '#metrics tbody tr[data-model="shapes-resnet"]';
    const deadline = Date.now() + 15000;
    let want = null, row = null;
    for (;;) {
      want = resnetMetrics(await (await fetch(base + '/metrics', { headers: AUTH })).text());
      row = await page.$eval(sel, (tr) => Array.from(tr.cells).map((c) => c.textContent))
        .catch(() => null);
      if ((row && row[1] === String(want.requests)) || Date.now() > deadline)
        break;
      await sleep(300);
    }
    check(want.requests >= 4, 'only ' + want.requests + ' requests counted for shapes-resnet');
    check(row && row[1] === String(want.requests),
      'panel row ' + JSON.stringify(row) + ' never showed ' + want.requests + ' requests');
    check(row[3] === (want.bsum / want.bcount).toFixed(2),
      'avg batch ' + row[3] + ' != ' + (want.bsum / want.bcount).toFixed(2));
    check(/ ms$/.test(row[4]) && / ms$/.test(row[5]), 'no p50/p99 shown: ' + row);
    check(row[2] === String(want.errors), 'errors ' + row[2] + ' != ' + want.errors);
    await shot(page, 'metrics.png');
  });

  step('nothing was refused by the Content-Security-Policy and no script failed', async () => {
    check(pageErrors.length === 0, pageErrors.join('\n'));
  });

  for (const s of steps) {
    const t0 = Date.now();
    try {
      await s.fn();
      results.push(true);
      log('ok - ' + s.name + ' (' + (Date.now() - t0) + ' ms)');
    } catch (e) {
      results.push(false);
      log('not ok - ' + s.name + ': ' + e.message);
      try { await shot(page, 'failure-' + results.length + '.png'); } catch (e2) { /* page gone */ }
      break;   // later steps build on this one
    }
  }
  const skipped = steps.length - results.length;
  for (let i = 0; i < skipped; i++)
    results.push(false);
}

main()
  .catch((e) => {
    log('not ok - setup: ' + e.message);
    results.push(false);
  })
  .finally(async () => {
    if (browser)
      await browser.close().catch(() => {});
    await stopDaemon();
    if (tmp)
      fs.rmSync(tmp, { recursive: true, force: true });
    const passed = results.filter((x) => x).length;
    log('# screenshots and convd.log in ' + OUT);
    log(passed + ' passed, ' + (results.length - passed) + ' failed');
    process.exit(results.length && passed === results.length ? 0 : 1);
  });

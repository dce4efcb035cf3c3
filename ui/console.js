/* console.js — the convd web console: lists the models (/v1/models), sends
 * a picked, dropped or recorded file to classify / segment / cam, draws the
 * answers (top-k bars, class-mask overlay with legend, Eigen-CAM heatmap over
 * the image with an opacity slider), shows the server's timing and its error
 * messages verbatim, and summarises /metrics every few seconds. Plain
 * JavaScript, no framework, nothing loaded from elsewhere; it talks to this
 * server only, sending the API key kept in sessionStorage when one is set. */
'use strict';

(function () {
  const KEY_STORE = 'convd.apiKey';
  const METRICS_EVERY_MS = 3000;
  const RECORD_SECONDS = 1.5;
  const MAX_VIEW = 1024;           /* largest canvas side drawn */

  const $ = (id) => document.getElementById(id);

  const state = {
    models: [],
    model: null,        /* the selected entry of /v1/models */
    file: null,         /* Blob (File) to send */
    kind: null,         /* 'image' | 'audio' */
    image: null,        /* ImageBitmap of the picked image */
    overlay: null,      /* canvas or ImageBitmap at the image's size */
    overlaySmooth: false,
    clipUrl: null,
    busy: false,
  };

  /* ---- HTTP ------------------------------------------------------------ */

  class ApiError extends Error {
    constructor(status, message) {
      super(message);
      this.status = status;
    }
  }

  function apiKey() {
    try {
      return sessionStorage.getItem(KEY_STORE) || '';
    } catch (e) {
      return '';
    }
  }

  /* The server's error message, verbatim: {"error":{"message":...}} when
   * the body is JSON of that shape, else the body text itself. */
  async function errorMessage(resp) {
    const text = await resp.text();
    try {
      const j = JSON.parse(text);
      if (j && j.error && typeof j.error.message === 'string')
        return j.error.message;
    } catch (e) { /* not JSON: the text as it is */ }
    return text.trim() || resp.statusText;
  }

  async function call(path, opts) {
    opts = opts || {};
    const headers = new Headers(opts.headers || {});
    const key = apiKey();
    if (key)
      headers.set('Authorization', 'Bearer ' + key);
    const t0 = performance.now();
    let resp;
    try {
      resp = await fetch(path, {
        method: opts.method || 'GET', headers: headers, body: opts.body,
        cache: 'no-store', credentials: 'omit', redirect: 'error',
      });
    } catch (e) {
      throw new ApiError(0, 'request failed: ' + e.message);
    }
    if (!resp.ok)
      throw new ApiError(resp.status, await errorMessage(resp));
    return { resp: resp, rtt: performance.now() - t0 };
  }

  function showError(el, err) {
    let text = err.status ? 'HTTP ' + err.status + ': ' + err.message : err.message;
    if (err.status === 401)
      text += '\n(the server wants an API key: enter it at the top of the page)';
    el.textContent = text;
    el.hidden = false;
  }

  function hideError(el) {
    el.textContent = '';
    el.hidden = true;
  }

  /* ---- API key --------------------------------------------------------- */

  function showKeyState() {
    $('key-state').textContent = apiKey() ? 'key set for this tab' : 'no key';
  }

  function setupKey() {
    $('api-key').value = apiKey();
    showKeyState();
    $('key-form').addEventListener('submit', (ev) => {
      ev.preventDefault();
      const v = $('api-key').value.trim();
      try {
        if (v)
          sessionStorage.setItem(KEY_STORE, v);
        else
          sessionStorage.removeItem(KEY_STORE);
      } catch (e) { /* storage refused: the key lasts until reload */ }
      showKeyState();
      loadModels();
      refreshMetrics();
    });
    $('key-clear').addEventListener('click', () => {
      try { sessionStorage.removeItem(KEY_STORE); } catch (e) { /* nothing kept */ }
      $('api-key').value = '';
      showKeyState();
    });
  }

  /* ---- models ---------------------------------------------------------- */

  function inputKind(m) {
    if (m.input && m.input.preprocess && m.input.preprocess.kind)
      return m.input.preprocess.kind;
    return m.input ? 'tensor' : '-';
  }

  function cell(tr, text, cls) {
    const td = document.createElement('td');
    td.textContent = text;
    if (cls)
      td.className = cls;
    tr.appendChild(td);
    return td;
  }

  function renderModels() {
    const tbody = $('models').tBodies[0];
    tbody.textContent = '';
    for (const m of state.models) {
      const tr = document.createElement('tr');
      tr.dataset.model = m.name;
      cell(tr, m.name);
      cell(tr, m.task || '-');
      cell(tr, inputKind(m));
      const st = cell(tr, m.state, m.state === 'ready' ? '' : 'failed');
      if (m.reason)
        st.title = m.reason;
      if (state.model && state.model.name === m.name)
        tr.classList.add('selected');
      tr.addEventListener('click', () => selectModel(m.name));
      tbody.appendChild(tr);
    }
  }

  async function loadModels() {
    hideError($('models-error'));
    try {
      const { resp } = await call('/v1/models');
      const j = await resp.json();
      state.models = Array.isArray(j.models) ? j.models : [];
    } catch (err) {
      showError($('models-error'), err);
      return;
    }
    const keep = state.model && state.models.find((m) => m.name === state.model.name);
    state.model = keep || null;
    renderModels();
    if (!state.model) {
      const first = state.models.find((m) => m.state === 'ready');
      if (first)
        selectModel(first.name);
    } else {
      selectModel(state.model.name);
    }
  }

  function selectModel(name) {
    const m = state.models.find((x) => x.name === name);
    if (!m)
      return;
    state.model = m;
    for (const tr of $('models').tBodies[0].rows)
      tr.classList.toggle('selected', tr.dataset.model === name);
    const kind = inputKind(m);
    $('model-name').textContent = m.name + ' (' + (m.task || 'no task') + ', ' + kind +
      (m.state === 'ready' ? '' : ', ' + m.state) + ')';
    const audio = kind === 'audio';
    $('file').accept = audio ? 'audio/wav,audio/x-wav,.wav' : 'image/png,image/jpeg';
    $('drop-hint').textContent = audio ? 'Drop a WAV file here, or' : 'Drop an image here, or';
    setupRecordButton(audio);
    if (m.labels)
      $('top').max = String(Math.min(100, m.labels));
    if (state.file && state.kind !== (audio ? 'audio' : 'image'))
      clearFile();
    updateButtons();
  }

  function updateButtons() {
    const m = state.model;
    const ok = !!(m && m.state === 'ready' && state.file && !state.busy);
    const kind = m ? inputKind(m) : '';
    const fits = ok && state.kind === (kind === 'audio' ? 'audio' : 'image');
    $('do-classify').disabled = !(fits && m.task === 'classification');
    $('do-segment').disabled = !(fits && kind === 'image' && m.task === 'segmentation');
    $('do-cam').disabled = !(fits && kind === 'image');
  }

  /* ---- the input file -------------------------------------------------- */

  function clearAnswer() {
    $('bars').textContent = '';
    $('legend').textContent = '';
    $('timing').hidden = true;
    $('overlay-kind').textContent = '';
    hideError($('error'));
    state.overlay = null;
    if (state.image)
      render();
  }

  function clearFile() {
    clearAnswer();
    state.file = null;
    state.kind = null;
    state.image = null;
    $('picture').hidden = true;
    $('clip').hidden = true;
    if (state.clipUrl) {
      URL.revokeObjectURL(state.clipUrl);
      state.clipUrl = null;
    }
  }

  function looksAudio(file) {
    return /^audio\//.test(file.type) || /\.wav$/i.test(file.name || '');
  }

  async function setFile(file) {
    clearFile();
    state.file = file;
    state.kind = looksAudio(file) ? 'audio' : 'image';
    if (state.kind === 'audio') {
      state.clipUrl = URL.createObjectURL(file);
      $('clip').src = state.clipUrl;
      $('clip').hidden = false;
    } else {
      try {
        state.image = await createImageBitmap(file);
      } catch (e) {
        /* The server may still read it: say so and let the user send it. */
        showError($('error'), new ApiError(0, 'this browser cannot show the file (' +
          (file.name || 'image') + '); it can still be sent'));
      }
      if (state.image) {
        const s = Math.min(1, MAX_VIEW / Math.max(state.image.width, state.image.height));
        $('view').width = Math.max(1, Math.round(state.image.width * s));
        $('view').height = Math.max(1, Math.round(state.image.height * s));
        $('picture').hidden = false;
        render();
      }
    }
    $('drop').dataset.file = file.name || '';
    updateButtons();
  }

  function setupInput() {
    $('file').addEventListener('change', () => {
      if ($('file').files.length)
        setFile($('file').files[0]);
    });
    const drop = $('drop');
    drop.addEventListener('dragover', (ev) => {
      ev.preventDefault();
      drop.classList.add('over');
    });
    drop.addEventListener('dragleave', () => drop.classList.remove('over'));
    drop.addEventListener('drop', (ev) => {
      ev.preventDefault();
      drop.classList.remove('over');
      if (ev.dataTransfer && ev.dataTransfer.files.length)
        setFile(ev.dataTransfer.files[0]);
    });
  }

  /* ---- recording: MediaRecorder, decoded and re-encoded as 16-bit WAV --- */

  function canRecord() {
    return !!(window.isSecureContext && navigator.mediaDevices &&
              navigator.mediaDevices.getUserMedia && window.MediaRecorder &&
              (window.AudioContext || window.webkitAudioContext));
  }

  function setupRecordButton(audio) {
    const b = $('record');
    b.hidden = !audio;
    b.disabled = !canRecord();
    $('record-state').textContent = audio && !canRecord()
      ? (window.isSecureContext ? 'this browser cannot record'
                                : 'recording needs https or localhost')
      : '';
  }

  /* Mono 16-bit PCM WAV of samples (Float32Array in [-1, 1]). */
  function encodeWav16(samples, rate) {
    const n = samples.length;
    const buf = new ArrayBuffer(44 + 2 * n);
    const v = new DataView(buf);
    const text = (off, s) => { for (let i = 0; i < s.length; i++) v.setUint8(off + i, s.charCodeAt(i)); };
    text(0, 'RIFF');
    v.setUint32(4, 36 + 2 * n, true);
    text(8, 'WAVE');
    text(12, 'fmt ');
    v.setUint32(16, 16, true);          /* fmt chunk size */
    v.setUint16(20, 1, true);           /* PCM */
    v.setUint16(22, 1, true);           /* mono */
    v.setUint32(24, rate, true);
    v.setUint32(28, rate * 2, true);    /* bytes per second */
    v.setUint16(32, 2, true);           /* block align */
    v.setUint16(34, 16, true);          /* bits per sample */
    text(36, 'data');
    v.setUint32(40, 2 * n, true);
    for (let i = 0; i < n; i++) {
      const s = Math.max(-1, Math.min(1, samples[i] || 0));
      v.setInt16(44 + 2 * i, s < 0 ? Math.round(s * 32768) : Math.round(s * 32767), true);
    }
    return new Blob([buf], { type: 'audio/wav' });
  }

  function downmix(audioBuffer) {
    const n = audioBuffer.length, ch = audioBuffer.numberOfChannels;
    const out = new Float32Array(n);
    for (let c = 0; c < ch; c++) {
      const d = audioBuffer.getChannelData(c);
      for (let i = 0; i < n; i++)
        out[i] += d[i] / ch;
    }
    return out;
  }

  async function record() {
    const b = $('record'), st = $('record-state');
    b.disabled = true;
    hideError($('error'));
    let stream = null;
    try {
      stream = await navigator.mediaDevices.getUserMedia({ audio: true });
      const rec = new MediaRecorder(stream);
      const chunks = [];
      rec.ondataavailable = (ev) => { if (ev.data && ev.data.size) chunks.push(ev.data); };
      const stopped = new Promise((resolve) => { rec.onstop = resolve; });
      st.textContent = 'recording...';
      rec.start();
      setTimeout(() => rec.stop(), RECORD_SECONDS * 1000);
      await stopped;
      const encoded = new Blob(chunks, { type: rec.mimeType });
      const Ctx = window.AudioContext || window.webkitAudioContext;
      const ctx = new Ctx();
      let decoded;
      try {
        decoded = await ctx.decodeAudioData(await encoded.arrayBuffer());
      } finally {
        ctx.close();
      }
      const wav = encodeWav16(downmix(decoded), decoded.sampleRate);
      st.textContent = 'recorded ' + decoded.duration.toFixed(2) + ' s at ' +
        decoded.sampleRate + ' Hz';
      await setFile(new File([wav], 'recording.wav', { type: 'audio/wav' }));
    } catch (e) {
      st.textContent = '';
      showError($('error'), new ApiError(0, 'recording failed: ' + (e.message || e.name || e)));
    } finally {
      if (stream)
        stream.getTracks().forEach((t) => t.stop());
      b.disabled = !canRecord();
    }
  }

  /* ---- drawing --------------------------------------------------------- */

  function opacity() {
    return Number($('opacity').value) / 100;
  }

  /* The image, and over it the current overlay at the slider's opacity. */
  function render() {
    const c = $('view'), g = c.getContext('2d');
    g.globalAlpha = 1;
    g.imageSmoothingEnabled = true;
    g.clearRect(0, 0, c.width, c.height);
    if (state.image)
      g.drawImage(state.image, 0, 0, c.width, c.height);
    if (state.overlay) {
      g.globalAlpha = opacity();
      g.imageSmoothingEnabled = state.overlaySmooth;
      g.drawImage(state.overlay, 0, 0, c.width, c.height);
      g.globalAlpha = 1;
    }
  }

  /* The server's class palette (daemon/media/colormap.c): the PASCAL VOC
   * colours, the bits of k spread over the high bits of R, G and B. */
  function classColour(k) {
    let r = 0, g = 0, b = 0, c = k & 255;
    for (let j = 7; j >= 0 && c; j--, c >>= 3) {
      r |= (c & 1) << j;
      g |= ((c >> 1) & 1) << j;
      b |= ((c >> 2) & 1) << j;
    }
    return [r, g, b];
  }

  /* mask {width, height, runs: [class, length, ...]} -> Uint8Array (h, w). */
  function decodeRle(mask) {
    const w = mask.width, h = mask.height, runs = mask.runs;
    if (!(w > 0 && h > 0) || !Array.isArray(runs) || runs.length % 2)
      throw new Error('the mask in the answer is malformed');
    const out = new Uint8Array(w * h);
    let p = 0;
    for (let i = 0; i < runs.length; i += 2) {
      const k = runs[i], n = runs[i + 1];
      if (!(n > 0) || p + n > out.length)
        throw new Error('the mask runs do not add up to ' + w + 'x' + h);
      out.fill(k, p, p + n);
      p += n;
    }
    if (p !== out.length)
      throw new Error('the mask runs do not add up to ' + w + 'x' + h);
    return out;
  }

  /* A canvas of the class colours, background (class 0) transparent. */
  function maskLayer(cls, w, h) {
    const layer = document.createElement('canvas');
    layer.width = w;
    layer.height = h;
    const g = layer.getContext('2d');
    const img = g.createImageData(w, h);
    for (let p = 0; p < cls.length; p++) {
      if (!cls[p])
        continue;
      const [r, gg, b] = classColour(cls[p]);
      img.data[4 * p] = r;
      img.data[4 * p + 1] = gg;
      img.data[4 * p + 2] = b;
      img.data[4 * p + 3] = 255;
    }
    g.putImageData(img, 0, 0);
    return layer;
  }

  function fmtMs(v) {
    return typeof v === 'number' && isFinite(v) ? v.toFixed(2) + ' ms' : '-';
  }

  /* timing_ms {queue, inference, total} from JSON answers; the same three
   * come as a Server-Timing header with PNG answers. The bars, the overlay
   * and the timing stay until the next answer of their kind or a new file. */
  function showTiming(what, t, rtt) {
    t = t || {};
    $('timing-of').textContent = what;
    $('t-queue').textContent = fmtMs(t.queue);
    $('t-infer').textContent = fmtMs(t.inference);
    $('t-total').textContent = fmtMs(t.total);
    $('t-rtt').textContent = fmtMs(rtt);
    $('timing').hidden = false;
  }

  function serverTiming(header) {
    const t = {};
    for (const part of (header || '').split(',')) {
      const m = /^\s*([A-Za-z0-9_-]+)\s*;.*\bdur=([0-9.eE+-]+)/.exec(part);
      if (m)
        t[m[1]] = Number(m[2]);
    }
    return t;
  }

  function showBars(preds) {
    const ol = $('bars');
    ol.textContent = '';
    for (const p of preds) {
      const li = document.createElement('li');
      const label = document.createElement('span');
      label.className = 'label';
      label.textContent = p.label != null ? p.label : 'class ' + p.index;
      label.title = 'class ' + p.index;
      const track = document.createElement('span');
      track.className = 'track';
      const fill = document.createElement('span');
      fill.className = 'fill';
      fill.style.width = (Math.max(0, Math.min(1, p.score)) * 100).toFixed(2) + '%';
      track.appendChild(fill);
      const score = document.createElement('span');
      score.className = 'score';
      score.textContent = (p.score * 100).toFixed(2) + '%';
      li.append(label, track, score);
      ol.appendChild(li);
    }
  }

  function showLegend(classes) {
    const ul = $('legend');
    ul.textContent = '';
    for (const c of classes) {
      const li = document.createElement('li');
      li.dataset.index = String(c.index);
      const sw = document.createElement('span');
      sw.className = 'swatch';
      const [r, g, b] = classColour(c.index);
      sw.style.background = 'rgb(' + r + ',' + g + ',' + b + ')';
      const name = document.createElement('span');
      name.textContent = (c.label != null ? c.label : 'class ' + c.index) +
        ' ' + (c.fraction * 100).toFixed(1) + '%' + (c.index === 0 ? ' (not drawn)' : '');
      li.append(sw, name);
      ul.appendChild(li);
    }
  }

  /* ---- the three calls ------------------------------------------------- */

  function bodyType() {
    if (state.kind === 'audio')
      return 'audio/wav';
    const t = state.file.type;
    return t === 'image/png' || t === 'image/jpeg' ? t : 'application/octet-stream';
  }

  function modelPath(what, query) {
    return '/v1/models/' + encodeURIComponent(state.model.name) + '/' + what + (query || '');
  }

  async function run(what) {
    if (state.busy || !state.model || !state.file)
      return;
    state.busy = true;
    updateButtons();
    hideError($('error'));
    document.body.dataset.busy = what;
    const post = (query) => call(modelPath(what, query), {
      method: 'POST', headers: { 'Content-Type': bodyType() }, body: state.file,
    });
    try {
      if (what === 'classify') {
        const top = Math.max(1, Math.floor(Number($('top').value) || 5));
        const { resp, rtt } = await post('?top=' + top);
        const j = await resp.json();
        showBars(j.predictions || []);
        showTiming(what, j.timing_ms, rtt);
      } else if (what === 'segment') {
        const { resp, rtt } = await post('?format=json');
        const j = await resp.json();
        const cls = decodeRle(j.mask);
        state.overlay = maskLayer(cls, j.mask.width, j.mask.height);
        state.overlaySmooth = false;
        $('overlay-kind').textContent = 'class mask';
        showLegend(j.classes || []);
        showTiming(what, j.timing_ms, rtt);
        render();
      } else {
        const { resp, rtt } = await post('?format=png');
        state.overlay = await createImageBitmap(await resp.blob());
        state.overlaySmooth = true;
        $('overlay-kind').textContent = 'Eigen-CAM: blue low, red high';
        $('legend').textContent = '';
        showTiming(what, serverTiming(resp.headers.get('Server-Timing')), rtt);
        render();
      }
      document.body.dataset.done = what;
    } catch (err) {
      showError($('error'), err);
      document.body.dataset.done = what + '-error';
    } finally {
      state.busy = false;
      delete document.body.dataset.busy;
      updateButtons();
      refreshMetrics();
    }
  }

  /* ---- metrics --------------------------------------------------------- */

  /* Prometheus text -> [{name, labels, value}]; comments and junk skipped. */
  function parseProm(text) {
    const out = [];
    const line = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)/;
    const label = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;
    for (const l of text.split('\n')) {
      if (!l || l[0] === '#')
        continue;
      const m = line.exec(l);
      if (!m)
        continue;
      const labels = {};
      let x;
      label.lastIndex = 0;
      while ((x = label.exec(m[2] || '')) !== null)
        labels[x[1]] = x[2].replace(/\\(.)/g, (_, c) => (c === 'n' ? '\n' : c));
      out.push({ name: m[1], labels: labels, value: Number(m[3]) });
    }
    return out;
  }

  /* Prometheus' histogram_quantile: buckets [[le, cumulative count]] sorted
   * by le, +Inf last. Linear inside the bucket holding the rank; a rank in
   * the +Inf bucket gives the largest finite bound. NaN without samples. */
  function histogramQuantile(q, buckets) {
    if (!buckets.length)
      return NaN;
    const total = buckets[buckets.length - 1][1];
    if (!(total > 0))
      return NaN;
    const rank = q * total;
    for (let i = 0; i < buckets.length; i++) {
      const [le, cum] = buckets[i];
      if (cum < rank)
        continue;
      if (le === Infinity)
        return i > 0 ? buckets[i - 1][0] : NaN;
      const lo = i > 0 ? buckets[i - 1][0] : 0;
      const clo = i > 0 ? buckets[i - 1][1] : 0;
      return cum === clo ? le : lo + (le - lo) * (rank - clo) / (cum - clo);
    }
    return buckets[buckets.length - 1][0];
  }

  /* Per model: requests, errors, average batch, p50/p99 seconds, queue. */
  function summarise(samples) {
    const by = new Map();
    const get = (m) => {
      if (!by.has(m))
        by.set(m, { requests: 0, errors: 0, bsum: 0, bcount: 0, buckets: new Map(), queue: NaN });
      return by.get(m);
    };
    for (const s of samples) {
      const m = s.labels.model;
      if (!m)
        continue;
      if (s.name === 'convd_requests_total') {
        const r = get(m);
        r.requests += s.value;
        if (Number(s.labels.code) >= 400)
          r.errors += s.value;
      } else if (s.name === 'convd_batch_size_sum') {
        get(m).bsum += s.value;
      } else if (s.name === 'convd_batch_size_count') {
        get(m).bcount += s.value;
      } else if (s.name === 'convd_request_duration_seconds_bucket') {
        const le = s.labels.le === '+Inf' ? Infinity : Number(s.labels.le);
        const b = get(m).buckets;
        b.set(le, (b.get(le) || 0) + s.value);
      } else if (s.name === 'convd_queue_depth') {
        get(m).queue = s.value;
      }
    }
    const rows = [];
    for (const [name, r] of by) {
      const buckets = [...r.buckets.entries()].sort((a, b) => a[0] - b[0]);
      rows.push({
        model: name, requests: r.requests, errors: r.errors,
        batch: r.bcount ? r.bsum / r.bcount : NaN,
        p50: histogramQuantile(0.5, buckets), p99: histogramQuantile(0.99, buckets),
        queue: r.queue,
      });
    }
    rows.sort((a, b) => (a.model < b.model ? -1 : a.model > b.model ? 1 : 0));
    return rows;
  }

  function renderMetrics(rows) {
    const tbody = $('metrics').tBodies[0];
    tbody.textContent = '';
    const num = (v, f) => (isFinite(v) ? f(v) : '-');
    for (const r of rows) {
      const tr = document.createElement('tr');
      tr.dataset.model = r.model;
      cell(tr, r.model);
      cell(tr, String(r.requests), 'num');
      cell(tr, String(r.errors), 'num');
      cell(tr, num(r.batch, (v) => v.toFixed(2)), 'num');
      cell(tr, num(r.p50, (v) => (v * 1e3).toFixed(1) + ' ms'), 'num');
      cell(tr, num(r.p99, (v) => (v * 1e3).toFixed(1) + ' ms'), 'num');
      cell(tr, num(r.queue, (v) => String(v)), 'num');
      tbody.appendChild(tr);
    }
  }

  let metricsTimer = null;

  async function refreshMetrics() {
    clearTimeout(metricsTimer);
    try {
      const { resp } = await call('/metrics');
      renderMetrics(summarise(parseProm(await resp.text())));
      hideError($('metrics-error'));
      $('metrics-updated').textContent = 'updated ' + new Date().toLocaleTimeString();
    } catch (err) {
      showError($('metrics-error'), err);
    }
    metricsTimer = setTimeout(refreshMetrics, METRICS_EVERY_MS);
  }

  /* ---- start ----------------------------------------------------------- */

  function start() {
    setupKey();
    setupInput();
    $('models-reload').addEventListener('click', loadModels);
    $('record').addEventListener('click', record);
    $('do-classify').addEventListener('click', () => run('classify'));
    $('do-segment').addEventListener('click', () => run('segment'));
    $('do-cam').addEventListener('click', () => run('cam'));
    $('opacity').addEventListener('input', () => {
      $('opacity-value').textContent = $('opacity').value + '%';
      render();
    });
    document.addEventListener('visibilitychange', () => {
      if (!document.hidden)
        refreshMetrics();
      else
        clearTimeout(metricsTimer);
    });
    loadModels();
    refreshMetrics();
  }

  /* The pure helpers, for the browser test and the curious. */
  window.convdConsole = Object.freeze({
    parseProm: parseProm, histogramQuantile: histogramQuantile, summarise: summarise,
    classColour: classColour, decodeRle: decodeRle, encodeWav16: encodeWav16,
  });

  start();
})();

// The page: submit the form as a native job, watch it develop, show the result. Everything goes through
// the public API (api.js, watch.js); the page holds no state the server does not also expose.
import { api, ApiError, onKeyNeeded, withKey } from './api.js';
import { RequestForm } from './form.js';
import { loadHistory, remember, showHistory, showResult } from './results.js';
import { watchJob } from './watch.js';

const $ = (id) => document.getElementById(id);
const PHASES = { loading_model: 'loading the model', encoding_prompt: 'encoding the prompt', denoising: 'denoising',
  decoding: 'decoding' };

let form;
let current = null;  // the job being watched: {id, request, source, ...}
let lastSeed = null;

function setStatus(text, state) {
  $('status').textContent = text;
  $('status').dataset.state = state;
}

function showMessage(text) { $('message').textContent = text; }

function setBusy(busy) {
  $('generate').disabled = busy;
  $('cancel').disabled = !busy;
}

// The server's refusal, next to the field it names when the form has that field.
function showError(error) {
  if (!(error instanceof ApiError)) {
    showMessage(`Cannot reach the server: ${error.message}`);
    return;
  }
  if (error.status === 429) {
    showMessage(`The queue is full: try again in ${error.retryAfter || 'a few'} s.`);
    return;
  }
  if (error.field && form.showFieldError(error.field, error.message)) {
    showMessage(`Please correct ${error.field}: ${error.message}`);
    return;
  }
  showMessage(error.message);
}

function resetMeter(total) {
  $('bar').value = 0;
  $('bar').max = total || 1;
  $('progress').textContent = `0/${total || 0}`;
  $('progress').dataset.steps = '';
  $('eta').textContent = '';
  $('speed').textContent = '';
}

// A new image is decoded off-screen before it replaces the shown one, so the frame never goes blank.
async function showImage(img, src, job) {
  const next = new Image();
  next.src = src;
  try {
    await next.decode();
  } catch {
    return false;
  }
  if (job !== current) return false;
  img.src = src;
  return true;
}

async function showPreview(job, data) {
  const src = data.image ? `data:${data.content_type};base64,${data.image}` : withKey(`${data.url}?step=${data.step}`);
  if (data.index < job.previewIndex) return;  // an older preview decoded after a newer one
  job.previewIndex = data.index;
  // The final image may have arrived while this preview decoded: it stays.
  if (await showImage($('preview'), src, job) && job.previewIndex === data.index && !job.done) {
    $('result').hidden = true;
    $('preview').hidden = false;
    $('preview').dataset.step = data.step;
  }
}

function onProgress(job, data) {
  $('bar').max = data.total;
  $('bar').value = data.step;
  $('progress').textContent = `${data.step}/${data.total}`;
  job.steps.push(data.step);
  $('progress').dataset.steps = job.steps.join(',');
  $('eta').textContent = data.eta_s > 0 ? `ETA ${data.eta_s.toFixed(1)} s` : 'ETA measuring…';
  // The rate over the steps this page saw (the first step also carries the prompt's encoding).
  job.first ??= data;
  const steps = data.step - job.first.step;
  const seconds = data.elapsed_s - job.first.elapsed_s;
  const rate = steps > 0 && seconds > 0 ? steps / seconds : data.step / Math.max(data.elapsed_s, 1e-3);
  $('speed').textContent = rate >= 1 ? `${rate.toFixed(2)} it/s` : `${(1 / rate).toFixed(2)} s/it`;
  setStatus(`running · step ${data.step} of ${data.total}`, 'running');
}

async function onCompleted(job, data) {
  job.done = true;
  const first = data.images[0];
  const settings = { ...job.request, seed: data.seed, width: first.width, height: first.height };
  lastSeed = data.seed;
  $('seed-reuse').disabled = false;
  $('eta').textContent = 'done';
  const show = (src) => showImage($('result'), src, job).then((shown) => {
    if (!shown) return;
    $('result').hidden = false;
    $('preview').hidden = true;
  });
  showResult($('results'), {
    jobId: job.id, settings, done: data, animation: Boolean(job.request.animation),
    onShow: show, onReuse: () => form.fill(settings),
  });
  await show(withKey(first.url));
  setStatus(`completed in ${data.timings?.total?.toFixed(1) ?? '?'} s`, 'completed');
  finish(job);
  if (!$('result').hidden) showHistory($('history-strip'), remember($('result'), settings), pickHistory);
}

function finish(job) {
  if (job !== current) return;
  setBusy(false);
  job.source.close();
}

function onEvent(job, name, data) {
  if (job !== current) return;
  switch (name) {
    case 'queued':
      setStatus(`queued · position ${data.position}`, 'queued');
      break;
    case 'started':
      setStatus('running', 'running');
      break;
    case 'phase':
      setStatus(`running · ${PHASES[data.phase] ?? data.phase}`, 'running');
      break;
    case 'progress':
      onProgress(job, data);
      break;
    case 'preview':
      showPreview(job, data);
      break;
    case 'notice':
    case 'replay_truncated':
      showMessage(data.message);
      break;
    case 'completed':
      onCompleted(job, data);
      break;
    case 'error':
      setStatus('error', 'error');
      showMessage(`The job failed (${data.code}): ${data.message}`);
      finish(job);
      break;
    case 'cancelled':
      setStatus(data.reason === 'shutdown' ? 'cancelled: the server is shutting down' : 'cancelled', 'cancelled');
      finish(job);
      break;
  }
}

function onConnection(job, state) {
  if (job !== current) return;
  if (state === 'reconnecting') {
    job.statusBeforeDrop ??= [$('status').textContent, $('status').dataset.state];
    setStatus('reconnecting…', 'reconnecting');
  } else if (state === 'open' && job.statusBeforeDrop) {
    setStatus(...job.statusBeforeDrop);
    job.statusBeforeDrop = null;
  } else if (state === 'lost') {
    setStatus('error', 'error');
    showMessage('The job\'s event stream is gone (the server restarted, or the job expired).');
    finish(job);
  }
}

async function generate() {
  if ($('generate').disabled) return;
  form.clearErrors();
  showMessage('');
  let request;
  try {
    request = form.request();
  } catch (error) {
    setStatus('error', 'error');
    if (!form.showFieldError(error.field, error.message)) showMessage(error.message);
    return;
  }
  setBusy(true);
  setStatus('submitting', 'submitting');
  let submitted;
  try {
    submitted = await api('/v1/jobs', { method: 'POST', body: request });
  } catch (error) {
    setBusy(false);
    setStatus('error', 'error');
    showError(error);
    return;
  }
  // One column (a phone): the image is below the form, so bring it into view.
  if (matchMedia('(max-width: 899px)').matches) $('viewer').scrollIntoView({ behavior: 'smooth' });
  const job = { id: submitted.id, request, steps: [], previewIndex: -1 };
  current = job;
  resetMeter(request.steps);
  setStatus(`queued · position ${submitted.position}`, 'queued');
  job.source = watchJob(job.id, { event: (name, data) => onEvent(job, name, data), connection: (s) => onConnection(job, s) });
}

async function cancel() {
  if (!current) return;
  $('cancel').disabled = true;
  setStatus('cancelling', 'running');
  try {
    await api(`/v1/jobs/${encodeURIComponent(current.id)}`, { method: 'DELETE' });
  } catch (error) {
    showError(error);
  }
}

function pickHistory(entry) { form.fill(entry.settings); }

// The key dialog: resolves with what the user typed (the first API request that got 401 waits for it);
// closing it with Escape gives up, with the server's 401 as the error.
function askForKey(problem) {
  const dialog = $('key-dialog');
  $('key-problem').textContent = problem;
  $('api-key').value = '';
  dialog.returnValue = '';
  if (!dialog.open) dialog.showModal();
  return new Promise((resolve, reject) => {
    const submit = (event) => {
      event.preventDefault();
      dialog.close('key');
    };
    $('key-form').addEventListener('submit', submit);
    dialog.addEventListener('close', () => {
      $('key-form').removeEventListener('submit', submit);
      if (dialog.returnValue === 'key') resolve($('api-key').value.trim());
      else reject(new ApiError(401, { code: 'unauthorized', message: 'This server needs an API key: reload the page to enter it.' }));
    }, { once: true });
  });
}

async function start() {
  onKeyNeeded(askForKey);
  let capabilities;
  try {
    capabilities = await api('/v1/capabilities');
  } catch (error) {
    setStatus('error', 'error');
    showError(error);
    return;
  }
  form = new RequestForm(capabilities);
  $('server-note').textContent = `${capabilities.models.length} model${capabilities.models.length === 1 ? '' : 's'}`;
  showHistory($('history-strip'), loadHistory(), pickHistory);
  $('form').addEventListener('submit', (event) => {
    event.preventDefault();
    generate();
  });
  // Enter in the prompt generates; Shift+Enter is a new line.
  for (const id of ['prompt', 'negative']) {
    $(id).addEventListener('keydown', (event) => {
      if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        generate();
      }
    });
  }
  $('cancel').addEventListener('click', cancel);
  $('seed-reuse').addEventListener('click', () => { if (lastSeed !== null) form.setSeed(lastSeed); });
  document.body.dataset.ready = 'true';
}

start();

// The request form: filled from GET /v1/capabilities (each model's defaults and preview methods), read
// into a native request, refilled from an earlier one, and showing the server's complaints next to the
// field they name.
const $ = (id) => document.getElementById(id);

// The native request's fields and the inputs that hold them.
const FIELD_INPUTS = {
  model: 'model', prompt: 'prompt', negative_prompt: 'negative', width: 'width', height: 'height',
  steps: 'steps', cfg: 'cfg', sampler: 'sampler', scheduler: 'scheduler', seed: 'seed', batch: 'batch',
  'preview.method': 'preview-method', 'preview.every_n_steps': 'preview-stride',
};

const PREVIEW_LABELS = { none: 'none', auto: 'auto (cheapest good)', latent2rgb: 'latent2rgb (instant)',
  taesd: 'tiny autoencoder', vae: 'full VAE (slow)' };

function fillSelect(select, values, label = (v) => v) {
  const current = select.value;
  select.replaceChildren(...values.map((value) => new Option(label(value), value)));
  if (values.includes(current)) select.value = current;
}

export class RequestForm {
  constructor(capabilities) {
    this.capabilities = capabilities;
    this.models = new Map(capabilities.models.map((model) => [model.id, model]));
    $('model').replaceChildren(...capabilities.models.map((model) => {
      const option = new Option(model.error ? `${model.id} (unavailable)` : `${model.id} · ${model.family}`, model.id);
      option.disabled = Boolean(model.error);
      option.title = model.error ?? '';
      return option;
    }));
    fillSelect($('sampler'), capabilities.samplers);
    fillSelect($('scheduler'), capabilities.schedulers);
    const limits = capabilities.limits;
    $('steps').max = limits.max_steps;
    $('batch').max = limits.max_batch;
    for (const id of ['width', 'height']) $(id).max = limits.max_side;
    const usable = capabilities.models.find((m) => m.default && !m.error) ?? capabilities.models.find((m) => !m.error);
    if (usable) $('model').value = usable.id;
    $('model').addEventListener('change', () => this.useModelDefaults());
    $('seed-random').addEventListener('change', () => this.syncSeed());
    $('seed').addEventListener('input', () => { $('seed-random').checked = $('seed').value === ''; });
    this.useModelDefaults();
    this.syncSeed();
  }

  get model() { return this.models.get($('model').value); }

  // A model's own size and guidance, and only the preview methods it has.
  useModelDefaults() {
    const model = this.model;
    if (!model || model.error) return;
    $('width').value = model.defaults.width;
    $('height').value = model.defaults.height;
    $('cfg').value = model.defaults.cfg;
    fillSelect($('preview-method'), model.preview_methods, (m) => PREVIEW_LABELS[m] ?? m);
    if (!model.preview_methods.includes($('preview-method').value) || $('preview-method').value === 'none')
      $('preview-method').value = 'auto';
  }

  syncSeed() {
    const random = $('seed-random').checked;
    if (random) $('seed').value = '';
  }

  // The native request (docs/server.md); numbers as typed, so the server names what is out of range.
  request() {
    const number = (id) => ($(id).value.trim() === '' ? undefined : Number($(id).value));
    const method = $('preview-method').value;
    const request = {
      model: $('model').value,
      prompt: $('prompt').value,
      width: number('width'),
      height: number('height'),
      steps: number('steps'),
      cfg: number('cfg'),
      sampler: $('sampler').value,
      scheduler: $('scheduler').value,
      batch: number('batch'),
      preview: { method },
    };
    if ($('negative').value) request.negative_prompt = $('negative').value;
    if (!$('seed-random').checked && number('seed') !== undefined) {
      // Past 2^53 a JavaScript number is no longer the integer typed: sent as it is, it would be another seed.
      if (!Number.isSafeInteger(number('seed')))
        throw Object.assign(new Error(`seed: this page sends whole numbers up to ${Number.MAX_SAFE_INTEGER}, got ${$('seed').value}`), { field: 'seed' });
      request.seed = number('seed');
    }
    if (method !== 'none') {
      request.preview.max_size = 512;
      const stride = number('preview-stride');
      if (stride !== undefined && stride !== 1) request.preview.every_n_steps = stride;
      request.animation = true;
    }
    for (const key of Object.keys(request)) if (request[key] === undefined) delete request[key];
    return request;
  }

  // "Use these settings again": the request as sent, with the seed and size the server used.
  fill(settings) {
    const request = settings;
    if (this.models.has(request.model)) $('model').value = request.model;
    this.useModelDefaults();
    $('prompt').value = request.prompt ?? '';
    $('negative').value = request.negative_prompt ?? '';
    for (const id of ['width', 'height', 'steps', 'cfg', 'batch']) if (request[id] !== undefined) $(id).value = request[id];
    for (const id of ['sampler', 'scheduler']) if (request[id]) $(id).value = request[id];
    const preview = request.preview ?? {};
    if (preview.method) $('preview-method').value = preview.method;
    $('preview-stride').value = preview.every_n_steps ?? 1;
    this.setSeed(settings.seed);
  }

  setSeed(seed) {
    $('seed').value = seed;
    $('seed-random').checked = false;
  }

  clearErrors() {
    for (const p of document.querySelectorAll('.field-error[data-for]')) p.textContent = '';
    for (const input of document.querySelectorAll('[aria-invalid]')) input.removeAttribute('aria-invalid');
  }

  // Shows the message next to the field it names; false when the field is not one of the form's.
  showFieldError(field, message) {
    const id = FIELD_INPUTS[field];
    if (!id) return false;
    document.querySelector(`.field-error[data-for="${id}"]`).textContent = message;
    $(id).setAttribute('aria-invalid', 'true');
    $(id).focus();
    return true;
  }
}

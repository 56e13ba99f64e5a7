// What a finished job leaves: its images with their parameters, downloads (PNG with the parameters
// chunk, as the server writes it), the development as an animation, and a strip of earlier results kept
// in this browser (thumbnails and settings; the server forgets jobs after its TTL).
import { withKey } from './api.js';

const HISTORY_STORAGE = 'darkroom.history';
const HISTORY_LENGTH = 12;
const THUMB_SIDE = 96;

function element(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, value);
  node.append(...children);
  return node;
}

// settings: the request as sent, with the seed and size the server used.
export function parameterText(settings, timings) {
  const parts = [`seed ${settings.seed}`, `${settings.width}x${settings.height}`, `${settings.steps} steps`,
    `cfg ${settings.cfg}`, settings.sampler, settings.scheduler, settings.model];
  if (timings?.total !== undefined) parts.push(`${timings.total.toFixed(1)} s`);
  return parts.join(' · ');
}

// The card under the image: parameters, a download per image, the animation, "use these settings again".
// onShow(url) shows one of the batch's images in the frame; onReuse() refills the form.
export function showResult(container, { jobId, settings, done, animation, onShow, onReuse }) {
  const links = element('p', { class: 'links' });
  done.images.forEach((image) => {
    links.append(element('a', { href: withKey(image.url), download: `darkroom-${done.seed}-${image.index}.png`,
      'data-testid': 'download' }, done.images.length > 1 ? `PNG ${image.index + 1}` : 'Download PNG'), ' ');
  });
  const reuse = element('button', { type: 'button', 'data-testid': 'reuse' }, 'Use these settings again');
  reuse.addEventListener('click', onReuse);
  const card = element('div', { class: 'card' },
    element('p', { class: 'parameters', 'data-testid': 'parameters' }, parameterText(settings, done.timings)),
    links, reuse);
  if (done.images.length > 1) {
    const strip = element('div', { class: 'batch' });
    for (const image of done.images) {
      const thumb = element('img', { src: withKey(image.url), alt: `image ${image.index + 1}`, tabindex: '0' });
      thumb.addEventListener('click', () => onShow(withKey(image.url)));
      strip.append(thumb);
    }
    card.prepend(strip);
  }
  if (animation) {
    const url = withKey(`/v1/jobs/${encodeURIComponent(jobId)}/animation`);
    const figure = element('figure', { class: 'animation' },
      element('img', { src: url, alt: 'the development, animated', 'data-testid': 'animation' }),
      element('figcaption', {}, element('a', { href: url, download: `darkroom-${done.seed}.webp` }, 'The development (WebP)')));
    card.append(figure);
  }
  container.replaceChildren(card);
}

export function loadHistory() {
  try {
    const history = JSON.parse(localStorage.getItem(HISTORY_STORAGE) ?? '[]');
    return Array.isArray(history) ? history.filter((entry) => entry?.settings && entry.thumb) : [];
  } catch {
    return [];
  }
}

// A small copy of the final image (it is same-origin, so the canvas may read it back).
function thumbnail(img) {
  const scale = THUMB_SIDE / Math.max(img.naturalWidth, img.naturalHeight);
  const canvas = document.createElement('canvas');
  canvas.width = Math.max(1, Math.round(img.naturalWidth * scale));
  canvas.height = Math.max(1, Math.round(img.naturalHeight * scale));
  canvas.getContext('2d').drawImage(img, 0, 0, canvas.width, canvas.height);
  return canvas.toDataURL('image/jpeg', 0.8);
}

export function remember(img, settings) {
  const entry = { thumb: thumbnail(img), settings, at: Date.now() };
  const history = [entry, ...loadHistory()].slice(0, HISTORY_LENGTH);
  try {
    localStorage.setItem(HISTORY_STORAGE, JSON.stringify(history));
  } catch {
    // Storage full or disabled: the strip still shows this session's results.
  }
  return history;
}

// onPick(entry): the settings of an earlier result back in the form.
export function showHistory(list, history, onPick) {
  list.replaceChildren(...history.map((entry) => {
    const button = element('button', { type: 'button', title: parameterText(entry.settings) },
      element('img', { src: entry.thumb, alt: entry.settings.prompt }));
    button.addEventListener('click', () => onPick(entry));
    return element('li', {}, button);
  }));
}

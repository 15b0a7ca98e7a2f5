// The upload page: pick or drop images, upload each with a progress bar, follow its task until
// the thumbnail is ready, then show it with its size and a download link. Plain browser APIs only.
'use strict';

(() => {
  const api = 'api/v1/thumbnail_generator'; // relative, so the page also works under a path prefix
  const maxParallelUploads = 3;
  const pollWaitSeconds = 10;              // the server may hold a status request this long (?wait=)
  const pollDelaysMs = [250, 500, 1000, 2000]; // pause between status requests, growing, so polling never hammers
  const pollDeadlineMs = 10 * 60 * 1000;

  const input = document.getElementById('files');
  const drop = document.getElementById('drop');
  const results = document.getElementById('results');
  const announcer = document.getElementById('announcer');
  const template = document.getElementById('item-template');
  const options = ['width', 'height', 'fit', 'format', 'quality'].map((id) => document.getElementById(id));
  const sizes = ['width', 'height', 'quality'].map((id) => document.getElementById(id));
  // The whole-number fields: their label, range, and whether an empty field means "the default".
  const ranges = {
    width: { label: 'Width', max: 1024 },
    height: { label: 'Height', max: 1024 },
    quality: { label: 'Quality', max: 100 },
  };

  const waiting = [];
  let uploading = 0;

  // A width, height or quality out of range is marked on its field as it is typed, and blocks uploads
  // until it is fixed (the service would refuse it; better said here than on every card). An empty
  // field sends nothing: the service's default is used.
  for (const field of sizes) {
    field.addEventListener('input', () => checkSize(field));
  }

  function checkSize(field) {
    const text = field.value.trim();
    const value = Number(text);
    const range = ranges[field.id];
    const problem = text === '' || (/^\d+$/.test(text) && value >= 1 && value <= range.max)
      ? ''
      : `${range.label} must be a whole number from 1 to ${range.max}.`;
    const message = document.getElementById(`${field.id}-error`);
    message.textContent = problem;
    message.hidden = problem === '';
    if (problem) field.setAttribute('aria-invalid', 'true');
    else field.removeAttribute('aria-invalid');
    return problem;
  }

  input.addEventListener('change', () => {
    addFiles(input.files);
    input.value = ''; // choosing the same file again is a new upload
  });

  // Dropping anywhere on the page works; the drop zone lights up while something is dragged over.
  let dragDepth = 0;
  document.addEventListener('dragenter', (event) => {
    if (!hasFiles(event)) return;
    event.preventDefault();
    dragDepth++;
    drop.classList.add('dragging');
  });
  document.addEventListener('dragover', (event) => {
    if (!hasFiles(event)) return;
    event.preventDefault();
    event.dataTransfer.dropEffect = 'copy';
  });
  document.addEventListener('dragleave', () => {
    dragDepth = Math.max(0, dragDepth - 1);
    if (dragDepth === 0) drop.classList.remove('dragging');
  });
  document.addEventListener('drop', (event) => {
    if (!hasFiles(event)) return;
    event.preventDefault();
    dragDepth = 0;
    drop.classList.remove('dragging');
    addFiles(event.dataTransfer.files);
  });

  function hasFiles(event) {
    return event.dataTransfer && Array.from(event.dataTransfer.types).includes('Files');
  }

  function addFiles(files) {
    const problems = sizes.map(checkSize).filter((problem) => problem !== '');
    if (problems.length > 0) {
      sizes.find((field) => field.getAttribute('aria-invalid') === 'true').focus();
      announce(`Not uploaded: ${problems.join(' ')}`);
      return;
    }

    const chosen = currentOptions();
    for (const file of Array.from(files)) {
      waiting.push({ file, options: chosen, view: addItem(file) });
    }
    pump();
  }

  function currentOptions() {
    const values = {};
    for (const field of options) {
      if (field.value.trim() !== '') values[field.id] = field.value.trim();
    }
    return values;
  }

  function pump() {
    while (uploading < maxParallelUploads && waiting.length > 0) {
      const next = waiting.shift();
      uploading++;
      upload(next).finally(() => {
        uploading--;
        pump();
      });
    }
  }

  // One list item per file, from the <template> in the page.
  function addItem(file) {
    const item = template.content.firstElementChild.cloneNode(true);
    const view = {
      item,
      name: file.name,
      progress: item.querySelector('.progress'),
      status: item.querySelector('.status'),
      result: item.querySelector('.result'),
      size: item.querySelector('.size'),
      download: item.querySelector('.download'),
      preview: item.querySelector('.preview'),
    };
    item.querySelector('.name').textContent = `${file.name} (${formatBytes(file.size)})`;
    view.progress.setAttribute('aria-label', `Upload of ${file.name}`);
    setState(view, 'waiting', 'Waiting to upload…');
    results.prepend(item);
    return view;
  }

  function setState(view, state, text) {
    view.item.dataset.state = state;
    view.status.textContent = text;
  }

  function announce(text) {
    announcer.textContent = text;
  }

  async function upload({ file, options: chosen, view }) {
    setState(view, 'uploading', 'Uploading… 0 %');
    let answer;
    try {
      answer = await send(file, chosen, (percent) => {
        view.progress.value = percent;
        view.status.textContent = `Uploading… ${Math.round(percent)} %`;
      });
    } catch {
      fail(view, 'The upload did not reach the service. Check the connection and try again.');
      return;
    }

    if (answer.status !== 202 || !answer.body || !answer.body.task_id) {
      fail(view, `Not uploaded: ${explain(answer.status, answer.body)}`);
      return;
    }

    view.progress.value = 100;
    setState(view, 'processing', 'Uploaded. Waiting for a worker…');
    announce(`${view.name} uploaded; it is being resized.`);
    await follow(view, `${api}/${encodeURIComponent(answer.body.task_id)}`);
  }

  // XMLHttpRequest rather than fetch: only it reports upload progress.
  function send(file, chosen, onProgress) {
    return new Promise((resolve, reject) => {
      const form = new FormData();
      form.append('image', file, file.name);
      for (const [name, value] of Object.entries(chosen)) form.append(name, value);

      const request = new XMLHttpRequest();
      request.open('POST', `${api}/`);
      request.responseType = 'json';
      request.setRequestHeader('Accept', 'application/json');
      request.upload.addEventListener('progress', (event) => {
        if (event.lengthComputable && event.total > 0) onProgress((event.loaded / event.total) * 100);
      });
      request.addEventListener('load', () => resolve({ status: request.status, body: request.response }));
      request.addEventListener('error', () => reject(new Error('network')));
      request.addEventListener('abort', () => reject(new Error('aborted')));
      request.send(form);
    });
  }

  async function follow(view, statusUrl) {
    const deadline = Date.now() + pollDeadlineMs;
    let round = 0;
    let networkErrors = 0;
    while (Date.now() < deadline) {
      let response;
      let body = null;
      try {
        response = await fetch(`${statusUrl}?wait=${pollWaitSeconds}`, {
          headers: { Accept: 'application/json' },
          cache: 'no-store',
        });
        body = await response.json().catch(() => null);
        networkErrors = 0;
      } catch {
        if (++networkErrors >= 5) {
          fail(view, 'Lost contact with the service while the image was being resized. Reload the page to try again.');
          return;
        }
      }

      if (response && !response.ok) {
        fail(view, `Could not get the status: ${explain(response.status, body)}`);
        return;
      }

      if (body && body.task_status === 'SUCCESS' && body.image) {
        showThumbnail(view, statusUrl, body.image);
        return;
      }

      if (body && body.task_status === 'FAILED') {
        const reason = body.error && body.error.message ? body.error.message : 'The image could not be resized.';
        fail(view, `Not resized: ${reason}`);
        return;
      }

      if (body) {
        view.status.textContent = body.stage === 'processing' ? 'Resizing…' : 'Uploaded. Waiting for a worker…';
      }

      await sleep(pollDelaysMs[Math.min(round++, pollDelaysMs.length - 1)]);
    }

    fail(view, 'The image is still waiting to be resized. Reload the page later to check again.');
  }

  function showThumbnail(view, statusUrl, image) {
    const url = `${statusUrl}/thumbnail`;
    const kind = (image.content_type || '').replace('image/', '').toUpperCase();
    const picture = document.createElement('img');
    picture.src = url;
    picture.width = image.width;
    picture.height = image.height;
    picture.alt = `Thumbnail of ${view.name}`;
    picture.className = 'thumbnail';
    view.preview.replaceChildren(picture);

    view.size.textContent = `${image.width} × ${image.height} px · ${kind} · ${formatBytes(image.size_bytes)}`;
    view.download.href = url;
    view.download.download = thumbnailName(image.name || view.name, image.content_type);
    view.download.setAttribute('aria-label', `Download the thumbnail of ${view.name}`);
    view.result.hidden = false;
    view.progress.hidden = true;
    setState(view, 'done', 'Ready.');
    announce(`Thumbnail of ${view.name} is ready: ${image.width} by ${image.height} pixels.`);
  }

  function fail(view, message) {
    view.progress.hidden = true;
    setState(view, 'failed', message);
    announce(`${view.name}: ${message}`);
  }

  // The API's own message is written for people; the status and code are the fallback.
  function explain(status, body) {
    if (body && typeof body.message === 'string' && body.message !== '') return body.message;
    if (status === 0) return 'the service did not answer.';
    if (status === 413) return 'the file is too large.';
    if (status === 429 || status === 503) return 'the service is busy. Try again in a few seconds.';
    return `the service answered ${status}.`;
  }

  function thumbnailName(original, contentType) {
    const extension = { 'image/jpeg': 'jpg', 'image/webp': 'webp', 'image/png': 'png' }[contentType] || 'png';
    const stem = original.replace(/\.[^.]*$/, '') || 'image';
    return `${stem}-thumbnail.${extension}`;
  }

  function formatBytes(bytes) {
    if (!Number.isFinite(bytes)) return '';
    if (bytes < 1024) return `${bytes} B`;
    if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`;
    return `${(bytes / (1024 * 1024)).toFixed(1)} MB`;
  }

  function sleep(ms) {
    return new Promise((resolve) => setTimeout(resolve, ms));
  }
})();

// Checks each file given to one image editor before Gradio uploads it: its size, that the
// browser can read it as an image, and its megapixels. A refused file never reaches the editor;
// the line under the editor (this gr.HTML component) names the file and says why, or that it
// was accepted. Run as the component's js_on_load (`element`, `props` are Gradio's); EDITOR_ID
// and LIMITS are filled in by app/widgets.py. The listeners are installed once per editor, even
// if the component loads again: they write through the latest loaded line (`registry`).
const editorId = EDITOR_ID;
const limits = LIMITS;
const registry = (window.mgpsUploadChecks ??= { approved: new WeakSet(), lines: {} });
const approved = registry.approved;
const installed = editorId in registry.lines;

const escape = (text) =>
  String(text).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]);
const size = (bytes) =>
  bytes >= 1e6 ? `${(bytes / 1e6).toFixed(1)} MB` : `${Math.max(0.1, bytes / 1e3).toFixed(1)} kB`;

const styles = {
  checking: 'opacity: 0.8',
  refused: 'background: #fde8e8; color: #8a1010',
  accepted: 'background: #e8f5e9; color: #1b5e20',
};

registry.lines[editorId] = (html) => { props.value = html; };

function say(kind, text) {
  registry.lines[editorId](`<div class="mgps-upload ${kind}" role="status" style="font-size: ` +
    `0.9em; padding: 3px 8px; border-radius: 6px; ${styles[kind]}">${escape(text)}</div>`);
}

function inEditor(node) {
  return node instanceof Element && node.closest(`#${editorId}`) !== null;
}

// null when the file is fine, else why it is refused
async function refusal(file) {
  const name = `“${file.name || 'the pasted image'}”`;
  if (file.size > limits.mb * 1e6) {
    return `${name} is ${size(file.size)}; the limit is ${limits.mb} MB. Use a smaller file ` +
      '(the prior works at its own small size anyway).';
  }
  if (file.type && !file.type.startsWith('image/')) {
    return `${name} is not an image (${file.type}). Use a PNG, JPEG, BMP, GIF or WebP image.`;
  }
  let width, height;
  try {
    const bitmap = await createImageBitmap(file);
    width = bitmap.width;
    height = bitmap.height;
    bitmap.close();
  } catch (err) {
    return `${name} is not an image this page can read. Use a PNG, JPEG, BMP, GIF or WebP image.`;
  }
  if (width * height > limits.megapixels * 1e6) {
    return `${name} is ${width}×${height} = ${(width * height / 1e6).toFixed(0)} megapixels; ` +
      `the limit is ${limits.megapixels}. Downscale it first (the prior works at its own small ` +
      'size anyway).';
  }
  file.mgpsSize = `${width}×${height}, ${size(file.size)}`;
  return null;
}

// Hold the event, check the files, then replay it (accepted) or drop it (refused).
async function check(event, files, replay, drop) {
  event.preventDefault();
  event.stopImmediatePropagation();
  say('checking', `checking “${files[0].name || 'the pasted image'}”…`);
  for (const file of files) {
    const why = await refusal(file);
    if (why) {
      say('refused', `Not uploaded: ${why}`);
      drop();
      return;
    }
  }
  const file = files[0];
  say('accepted', `“${file.name || 'the pasted image'}” accepted (${file.mgpsSize}); at Run it is ` +
    "centre-cropped and resized to the prior's size.");
  replay();
}

function install() {
  document.addEventListener('change', (event) => {
    const input = event.target;
    if (approved.has(event) || !(input instanceof HTMLInputElement) || input.type !== 'file') return;
    if (!inEditor(input) || !input.files || input.files.length === 0) return;
    const files = [...input.files];
    check(event, files, () => {
      const again = new Event('change', { bubbles: true });
      approved.add(again);
      input.dispatchEvent(again);
    }, () => { input.value = ''; });
  }, true);

  for (const type of ['drop', 'paste']) {
    document.addEventListener(type, (event) => {
      if (approved.has(event) || !inEditor(event.target)) return;
      const data = type === 'drop' ? event.dataTransfer : event.clipboardData;
      const files = data ? [...data.files] : [];
      if (files.length === 0) return;
      const target = event.target;
      check(event, files, () => {
        const transfer = new DataTransfer();
        files.forEach((f) => transfer.items.add(f));
        const again = type === 'drop'
          ? new DragEvent('drop', { bubbles: true, cancelable: true, dataTransfer: transfer })
          : new ClipboardEvent('paste', { bubbles: true, cancelable: true, clipboardData: transfer });
        approved.add(again);
        target.dispatchEvent(again);
      }, () => {});
    }, true);
  }

  // A new example replaces the editor's image: the line about the last upload no longer applies.
  document.addEventListener('click', (event) => {
    const examples = event.target instanceof Element && event.target.closest(`#${editorId.replace('editor', 'examples')}`);
    if (examples) registry.lines[editorId]('');
  }, true);
}

if (!installed) install();

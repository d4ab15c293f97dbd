// Hands each file given to an image editor, as it is, to a hidden file box as well: Gradio's
// editor sends its image re-encoded as PNG, which loses what only the file knows (a JPEG's
// quantisation tables, from which the app reads its quality). Run as the js_on_load of a
// gr.HTML; EDITOR_ID and FILE_ID are filled in by app/own_image_widgets.py. Where the upload
// check (app/upload_check.js) is installed, only the files it accepted and replayed are handed
// on. Installed once per editor.
const editorId = EDITOR_ID;
const fileId = FILE_ID;
const installed = (window.mgpsOriginals ??= {});

function inEditor(node) {
  return node instanceof Element && node.closest(`#${editorId}`) !== null;
}

// true when the upload check holds this event back (it replays it once the file is accepted)
function unchecked(event) {
  const checks = window.mgpsUploadChecks;
  return checks !== undefined && !checks.approved.has(event);
}

function handOn(file) {
  const input = document.querySelector(`#${fileId} input[type=file]`);
  if (!input || !file) return;
  const transfer = new DataTransfer();
  transfer.items.add(file);
  input.files = transfer.files;
  input.dispatchEvent(new Event('change', { bubbles: true }));
}

if (!installed[editorId]) {
  installed[editorId] = true;
  document.addEventListener('change', (event) => {
    const input = event.target;
    if (!(input instanceof HTMLInputElement) || input.type !== 'file' || !inEditor(input)) return;
    if (unchecked(event) || !input.files || input.files.length === 0) return;
    handOn(input.files[0]);
  }, true);
  // a blank canvas replaces the editor's image: the line about the last upload no longer applies
  document.addEventListener('click', (event) => {
    const blank = event.target instanceof Element && event.target.closest(`#${editorId.replace('editor', 'blank')}`);
    const lines = window.mgpsUploadChecks?.lines;
    if (blank && lines && lines[editorId]) lines[editorId]('');
  }, true);
  document.addEventListener('drop', (event) => {
    if (!inEditor(event.target) || unchecked(event)) return;
    const files = event.dataTransfer ? [...event.dataTransfer.files] : [];
    if (files.length) handOn(files[0]);
  }, true);
}

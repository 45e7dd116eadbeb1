/* Rapport widget files: attaching files to the next message. Loaded the
   first time a shopper attaches one (the button, a paste, a drop), so the
   core stays small. Each file is uploaded at once, with a progress bar;
   one that failed can be sent again or taken out; the core is told which
   are ready (core.files_ready) and sends them with the message.
   files(frame, action, list, core, config, base, site):
     action  'pick' (the attach button), 'add' (list: pasted or dropped
             files), 'sent' (the message went: the tray empties)
   Placeholders __CSS__ and __WORDS__ (the indexes of its words in
   config.texts) are filled in by `cargo xtask dist`. */
var items = [], tray, styled, words, at;

/* What the server takes; it decides by the content, this only helps the
   phone offer the camera and the right files. */
var ACCEPT = 'image/*,.heic,.heif,application/pdf,text/plain,.txt,.csv,.log,' +
  '.doc,.docx,.xls,.xlsx,.ppt,.pptx,.odt,.ods,.odp,.rtf';
var MOST = 10;

function el(tag, className, text) {
  var e = document.createElement(tag);
  if (className) e.className = className;
  if (text) e.textContent = text;
  return e;
}

export function files(frame, action, list, core, config, base, site) {
  at = { frame: frame, core: core, base: base, site: site };
  words = words || __WORDS__.map(function (i) { return (config.texts || [])[i] || ''; });
  if (!styled) {
    styled = el('style', '', '__CSS__');
    frame.append(styled);
  }
  if (action == 'sent') {
    items.forEach(function (item) { item.preview && URL.revokeObjectURL(item.preview); });
    items = [];
    return draw();
  }
  if (action == 'pick') {
    var input = el('input');
    input.type = 'file';
    input.multiple = true;
    input.accept = ACCEPT;
    input.onchange = function () { add(input.files); };
    return input.click();
  }
  add(list);
}

function add(list) {
  [].slice.call(list || [], 0, MOST - items.length).forEach(function (file) {
    var item = { file: file, name: file.name || 'file', state: 'up', done: 0 };
    if (/^image\/(png|jpeg|gif|webp)$/.test(file.type)) item.preview = URL.createObjectURL(file);
    items.push(item);
    send(item);
  });
  draw();
}

/* An iPhone's HEIC photo as a JPEG, where the browser can decode it (the
   canvas also leaves its location behind); else as it is, kept as a file. */
function prepare(file) {
  if (!/image\/hei[cf]|\.hei[cf]$/i.test(file.type + ' ' + file.name) || !window.createImageBitmap) {
    return Promise.resolve(file);
  }
  return createImageBitmap(file).then(function (bitmap) {
    var canvas = el('canvas');
    canvas.width = bitmap.width;
    canvas.height = bitmap.height;
    canvas.getContext('2d').drawImage(bitmap, 0, 0);
    return new Promise(function (done) {
      canvas.toBlob(function (blob) {
        done(blob ? new File([blob], file.name.replace(/\.hei[cf]$/i, '') + '.jpg', { type: 'image/jpeg' }) : file);
      }, 'image/jpeg', 0.9);
    });
  }).catch(function () { return file; });
}

/* Uploads one file; sending it again after a failure uploads it anew
   (the message, sent once, refers only to what arrived). */
function send(item) {
  item.state = 'up';
  item.done = 0;
  item.error = '';
  prepare(item.file).then(function (file) {
    var xhr = new XMLHttpRequest();
    xhr.open('POST', at.base + '/api/widget/files?site=' + encodeURIComponent(at.site) +
      '&name=' + encodeURIComponent(file.name || item.name));
    var token = at.core.visitor_token();
    if (token) xhr.setRequestHeader('Authorization', 'Bearer ' + token);
    xhr.upload.onprogress = function (e) {
      if (e.lengthComputable) { item.done = Math.round(100 * e.loaded / e.total); draw(); }
    };
    xhr.onload = function () {
      var body;
      try { body = JSON.parse(xhr.responseText); } catch (e) { body = {}; }
      if (xhr.status == 200) {
        item.state = 'ok';
        item.ref = body;
      } else {
        item.state = 'failed';
        item.error = body.error && body.error.message || '';
      }
      draw();
    };
    xhr.onerror = xhr.ontimeout = function () { item.state = 'failed'; draw(); };
    xhr.send(file);
  });
}

/* The tray above the message box, and the core told what is ready. */
function draw() {
  at.core.files_ready(
    items.filter(function (i) { return i.state == 'ok'; }).map(function (i) { return i.ref; }),
    items.some(function (i) { return i.state == 'up'; })
  );
  if (!tray) {
    tray = el('ul', 'rp-tray');
    tray.setAttribute('aria-live', 'polite');
  }
  if (!tray.isConnected) {
    var composer = at.frame.querySelector('.rp-composer');
    composer && composer.prepend(tray);
  }
  tray.replaceChildren.apply(tray, items.map(function (item) {
    var row = el('li', 'rp-tray-file rp-' + item.state);
    if (item.preview) {
      var img = el('img');
      img.src = item.preview;
      img.alt = '';
      row.append(img);
    }
    row.append(el('span', 'rp-tray-name', item.name));
    if (item.state == 'up') {
      var bar = el('progress');
      bar.max = 100;
      bar.value = item.done;
      bar.setAttribute('aria-label', words[0] + ' ' + item.name);
      row.append(bar);
    }
    if (item.state == 'failed') {
      row.append(el('span', 'rp-tray-error', item.error || words[1]));
      row.append(button(words[3], function () { send(item); draw(); }));
    }
    row.append(button(words[2], function () {
      items.splice(items.indexOf(item), 1);
      item.preview && URL.revokeObjectURL(item.preview);
      draw();
    }));
    return row;
  }));
}

function button(text, onclick) {
  var b = el('button', 'rp-tray-button', text);
  b.type = 'button';
  b.onclick = onclick;
  return b;
}

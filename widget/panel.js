/* Appended to the widget's glue by `cargo xtask dist`: what the mounted
   panel needs from plain JS, kept out of the loader every page runs.
   Files: the attach button, a screenshot pasted into the chat and files
   dropped on it go to `attach` (the loader's), which fetches the files
   module the first time. Help (where the site has articles): the button
   that opens the help view, and an agent's article card read in the
   panel, both through `help` (the loader's), which fetches the help
   module the first time. Placeholders __ATTACH__ and __HELP__ are the
   indexes of the buttons' words in config.texts. */
export function dress(frame, config, attach, help) {
  if (config.help) {
    // A button like the close button beside it.
    var close = frame.querySelector('.rp-close'), ask = close.cloneNode();
    ask.textContent = '?';
    ask.setAttribute('aria-label', config.texts[__HELP__]);
    ask.onclick = function () { help('open'); };
    close.before(ask);
    // An agent's article card (a link to its page) opens in the panel.
    frame.addEventListener('click', function (e) {
      var a = e.target.closest('.rp-line a[href*="/help/"]');
      a && (e.preventDefault(), help('card', a.href));
    });
  }
  if (!config.files) return;
  var send = frame.querySelector('.rp-send'), clip = document.createElement('button');
  clip.type = 'button';
  clip.className = 'rp-attach';
  clip.title = (config.texts || [])[__ATTACH__] || 'Attach a file';
  clip.setAttribute('aria-label', clip.title);
  clip.innerHTML = '<svg viewBox="0 0 24 24" aria-hidden="true"><path d="M16 6v10a4 4 0 0 1-8 0V5a2.5 2.5 0 0 1 5 0v10a1 1 0 0 1-2 0V6"/></svg>';
  clip.onclick = function () { attach('pick'); };
  send && send.before(clip);
  frame.addEventListener('paste', function (e) {
    var list = e.clipboardData && e.clipboardData.files;
    if (list && list.length) {
      e.preventDefault();
      attach('add', list);
    }
  });
  frame.addEventListener('dragover', function (e) { e.preventDefault(); });
  frame.addEventListener('drop', function (e) {
    e.preventDefault();
    e.dataTransfer && e.dataTransfer.files.length && attach('add', e.dataTransfer.files);
  });
}

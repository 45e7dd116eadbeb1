/* Rapport loader: <script async src=".../widget.js" data-site="KEY"></script>.
   Draws the launcher in a shadow root, keeps the Rapport(...) command
   queue, and loads the chat (WASM) only when opened or when the page is idle.
   Placeholders __X__ are filled in by `cargo xtask dist`. */
(function (w, d) {
  var script = d.currentScript;
  if (!script || w.Rapport && w.Rapport.loaded) return;
  var site = script.getAttribute('data-site') || '';
  var base = new URL(script.src).origin;
  var queued = (w.Rapport && w.Rapport.q) || [];
  var host, root, frame, launcher, badge, config, loading, mounted, ready, chat, modules = {}, context = {};
  /* The page's own overflow while a phone's screen is the chat's. */
  var scroll, phone = w.matchMedia && matchMedia('(max-width: 640px)');
  /* Rapport('on', name, fn) listeners; the unread count and the words
     for it ("New message"); the page's own title while ours flashes. */
  var listeners = {}, unread = 0, words, title, flashing;
  var key = 'rapport:' + site + ':visitor', tracks = [], zone = '';
  try { zone = Intl.DateTimeFormat().resolvedOptions().timeZone; } catch (e) {}
  /* A "continue in the chat" link from an email: take its token out of the
     address bar, and open the chat on that conversation. */
  var link = /[#&]rapport-continue=([a-z0-9]+)/, resume = (location.hash.match(link) || [])[1];
  if (resume) {
    context.resume = resume;
    try { history.replaceState(history.state, '', location.href.replace(link, '')); } catch (e) {}
  }

  function log(message) { w.console && console.error('Rapport: ' + message); }

  function api() {
    var args = [].slice.call(arguments);
    if (!ready) return queued.push(args);
    if (args[0] == 'open') open();
    else if (args[0] == 'close') close();
    else if (args[0] == 'on' || args[0] == 'off') {
      var list = listeners[args[1]] = listeners[args[1]] || [];
      if (args[0] == 'on') list.push(args[2]); else list.splice(list.indexOf(args[2]) >>> 0, 1);
    }
    else if (args[0] == 'set' && args[1] && typeof args[1] == 'object' || args[0] == 'identify') {
      args[0] == 'set' ? Object.assign(context, args[1]) : context.identity = args[1];
      tell();
    } else if (args[0] == 'track') {
      tracks.push([String(args[1]), JSON.stringify(args[2] === undefined ? null : args[2])]);
      track();
    } else if (args[0] == 'logout') {
      delete context.identity;
      try { localStorage.removeItem(key); } catch (e) {}
      chat && chat.logout();
    } else log('unknown command ' + args[0]);
  }
  api.loaded = 1;
  w.Rapport = api;

  // The page the shopper is on, for the agent; a single-page shop that
  // calls Rapport('set', ...) on navigation updates it.
  function tell() {
    context.page = [location.href, d.title, zone];
    chat && chat.set_context(context);
  }

  function track() {
    chat && tracks.splice(0).forEach(function (t) { chat.track(t[0], t[1]); });
  }

  function emit(name, value) {
    (listeners[name] || []).slice().forEach(function (f) {
      try { f(value); } catch (e) { log('a listener for ' + name + ' failed: ' + e); }
    });
  }

  /* What the chat tells: the unread count (badge, flashing title while the
     page is hidden) and each reply that comes in. */
  function notify(kind, value, label) {
    if (kind == 'unread') {
      unread = value;
      words = label;
      badge.textContent = value;
      badge.hidden = !value;
      flash();
    }
    emit(kind, value);
  }

  /* While the page is hidden and replies are unseen, the title alternates
     with "(n) New message"; it is the page's own again once seen. */
  function flash() {
    clearInterval(flashing);
    if (title != null) d.title = title;
    title = null;
    if (unread && d.hidden) {
      title = d.title;
      flashing = setInterval(function () {
        d.title = d.title == title ? '(' + unread + ') ' + words : title;
      }, 1000);
    }
  }

  function load() {
    return loading || (loading = import(base + '__GLUE__').then(function (m) {
      return m.default({ module_or_path: base + '__WASM__' }).then(function () { return m; });
    }));
  }

  /* Parts few shoppers need are modules of their own, each fetched the
     first time it is used (again after a failed fetch), then called. */
  function use(name, path, call) {
    (modules[name] = modules[name] || import(base + path)).then(call, function (e) {
      modules[name] = 0;
      log(name + ' failed to load: ' + e);
    });
  }

  /* Parts of the panel few shoppers need (topics, email ask, transcript,
     agent's picture, rating) are the extras module; files (picked, pasted,
     dropped) are uploaded by the files module; help articles (the help
     view, suggestions after a first question, an agent's card) are the
     help module. */
  function extra(name, value, text, more) {
    if (name == 'files') return attach(value, more);
    if (name == 'help') return value && config.help && help('suggest', value);
    if (value != null || modules.extras) use('extras', '__EXTRAS__', function (m) {
      m.show(frame, name, value, text, more, chat, config, emit, base, site);
    });
  }

  function attach(action, list) {
    if (action != 'sent' || modules.files) use('files', '__FILES__', function (m) {
      m.files(frame, action, list, chat, config, base, site);
    });
  }

  function help(action, value) {
    use('help', '__HELP__', function (m) { m.help(frame, action, value, chat, config, emit, base, site); });
  }

  function mount() {
    return load().then(function (m) {
      if (!mounted) {
        mounted = 1;
        chat = m;
        // The panel's styles come with its code (`css`, added by dist).
        root.firstChild.append(m.css);
        // On a touch screen Enter makes a new line; the button sends.
        config.touch = !!(w.matchMedia && matchMedia('(pointer: coarse)').matches);
        tell();
        m.mount(frame, base, site, config, close, notify, extra);
        track();
        m.dress(frame, config, attach, help);
      }
    }, function (e) { loading = 0; log('the chat failed to load: ' + e); });
  }

  /* On a phone the chat is the screen: the page under it stays still, and
     the panel ends where the on-screen keyboard begins. */
  function fit() {
    var view = w.visualViewport;
    frame.style.height = phone && phone.matches && view ? view.height + 'px' : '';
    frame.style.top = phone && phone.matches && view ? view.offsetTop + 'px' : '';
  }
  w.visualViewport && visualViewport.addEventListener('resize', fit);
  w.visualViewport && visualViewport.addEventListener('scroll', fit);

  function open() {
    frame.hidden = false;
    if (phone && phone.matches && scroll == null) {
      scroll = d.documentElement.style.overflow;
      d.documentElement.style.overflow = 'hidden';
    }
    fit();
    launcher.setAttribute('aria-expanded', 'true');
    emit('open');
    mount().then(function () {
      seen();
      var input = root.querySelector('.rp-input');
      input && input.focus();
    });
  }

  /* Whether what the chat shows is seen: the panel open on a visible page. */
  function seen() {
    chat && chat.set_open(!frame.hidden && !d.hidden);
    flash();
  }
  d.addEventListener('visibilitychange', seen);

  function close() {
    frame.hidden || chat && chat.panel_closed();
    frame.hidden = true;
    if (scroll != null) {
      d.documentElement.style.overflow = scroll;
      scroll = null;
    }
    seen();
    emit('close');
    launcher.setAttribute('aria-expanded', 'false');
    launcher.focus();
  }

  function draw() {
    host = d.createElement('div');
    host.setAttribute('data-rapport', '');
    root = host.attachShadow({ mode: 'open' });
    var look = config.launcher || {};
    // The server checked the accent is #rrggbb: safe inside a style.
    root.innerHTML = '<style>__CSS__:host{--rp-accent:' + (look.accent || '#2563eb') + ' !important}' +
      (look.position == 'left' ? ':host{right:auto !important;left:20px !important}.rp-frame{right:auto;left:0}' : '') +
      // Lifted by the owner's offset, clear of a bar of the shop's own.
      (look.offset ? ':host{bottom:' + (20 + (look.offset | 0)) + 'px !important}' : '') +
      '</style><div class="rp-frame" hidden></div>' +
      '<button class="rp-launcher" type="button" aria-expanded="false" aria-haspopup="dialog">' +
      '<svg viewBox="0 0 24 24" aria-hidden="true"><path d="M4 4h16v12H7l-3 3z"/></svg></button>';
    frame = root.firstChild.nextSibling;
    launcher = frame.nextSibling;
    var label = d.createElement('span');
    label.className = 'rp-label';
    label.textContent = look.label || 'Chat';
    launcher.append(label);
    badge = d.createElement('span');
    badge.className = 'rp-badge';
    badge.hidden = true;
    launcher.append(badge);
    launcher.onclick = function () { frame.hidden ? open() : close(); };
    frame.onkeydown = function (e) { if (e.key == 'Escape') close(); };
    d.body.appendChild(host);
    ready = 1;
    queued.forEach(function (args) { api.apply(null, args); });
    emit('ready');
    if (resume) open();
    // Warm up when the page has nothing better to do; a returning shopper
    // reconnects at once so replies that came meanwhile show up.
    function warm() {
      try { localStorage.getItem(key) || context.identity ? mount() : load(); } catch (e) { load(); }
    }
    w.requestIdleCallback ? requestIdleCallback(warm, { timeout: 5000 }) : setTimeout(warm, 2000);
  }

  fetch(base + '/api/widget/config?site=' + encodeURIComponent(site) + '&lang=' +
    encodeURIComponent(navigator.language || '') + '&tz=' + encodeURIComponent(zone) +
    '&page=' + encodeURIComponent(location.href))
    .then(function (r) {
      return r.json().then(function (body) {
        if (!r.ok) throw body.error ? body.error.message : r.status;
        config = body;
        d.body ? draw() : d.addEventListener('DOMContentLoaded', draw);
      });
    })
    .catch(function (e) { log(e); });
})(window, document);

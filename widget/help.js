/* Rapport widget help: the site's help articles inside the panel. Loaded
   the first time it is needed (the help button, a question sent on a site
   with articles, an agent's article card clicked), so the core stays small.
   - The help view: the most useful articles and a search.
   - "This might help": after the shopper's first question, up to three
     articles the server found from that sent question (never a draft),
     until an agent replies.
   - An article read in the panel, with "This answered my question" and
     "Talk to a person" (back to the chat: the question stays sent, the
     place in line is kept).
   help(frame, action, value, core, config, emit, base, site):
     action  'open' (the help view), 'suggest' (value: the conversation
             whose first question was sent), 'card' (value: an article's
             public address, from a link in the chat)
   Placeholders __CSS__ and __WORDS__ (the indexes of its words in
   config.texts) are filled in by `cargo xtask dist`. */
var at, styled, words, view, offered = {}, box, timer;

function el(tag, className, text) {
  var e = document.createElement(tag);
  if (className) e.className = className;
  if (text) e.textContent = text;
  return e;
}

function button(className, text, onclick) {
  var b = el('button', className, text);
  b.type = 'button';
  b.onclick = onclick;
  return b;
}

export function help(frame, action, value, core, config, emit, base, site) {
  at = { frame: frame, core: core, config: config, emit: emit, base: base, site: site };
  words = words || __WORDS__.map(function (i) { return (config.texts || [])[i] || ''; });
  if (!styled) {
    styled = el('style', '', '__CSS__');
    frame.append(styled);
  }
  if (action == 'open') list('');
  else if (action == 'suggest') suggest(value);
  else if (action == 'card') card(value);
}

/* The widget's help door; `path` after /api/widget/help. */
function ask(path, body) {
  var token = at.core.visitor_token(), headers = { 'Content-Type': 'application/json' };
  if (token) headers.Authorization = 'Bearer ' + token;
  return fetch(at.base + '/api/widget/help' + path + (path.indexOf('?') < 0 ? '?' : '&') +
    'site=' + encodeURIComponent(at.site) + '&lang=' + encodeURIComponent(at.config.language || ''), {
    method: body ? 'POST' : 'GET',
    headers: headers,
    body: body && JSON.stringify(body)
  }).then(function (r) {
    if (r.status == 204) return {};
    return r.json().then(function (answer) {
      if (!r.ok) throw answer.error || {};
      return answer;
    });
  });
}

/* The view over the chat (the header stays): its content replaced. */
function shell(content, focus) {
  var panel = at.frame.querySelector('.rp-panel');
  if (!view) {
    view = el('section', 'rp-help');
    view.setAttribute('aria-label', words[0]);
    view.onkeydown = function (e) {
      // Escape leaves the article or the help, not the whole chat.
      if (e.key == 'Escape') { e.stopPropagation(); leave(); }
    };
  }
  panel.classList.add('rp-helping');
  panel.append(view);
  view.textContent = '';
  view.append(button('rp-help-back', '\u2190 ' + words[6], leave), content);
  focus && focus.focus();
}

function leave() {
  var panel = at.frame.querySelector('.rp-panel');
  panel && panel.classList.remove('rp-helping');
  view && view.remove();
  var input = at.frame.querySelector('.rp-input');
  input && input.focus();
}

function items(articles, source, conversation) {
  var list = el('ul', 'rp-help-list');
  articles.forEach(function (a) {
    var item = el('li'), b = button('rp-help-item', '', function () { read(a.id, source, conversation); });
    b.append(el('strong', '', a.title), el('span', '', a.description));
    item.append(b);
    list.append(item);
  });
  return list;
}

/* The most useful articles, or what a search found. */
function list(query) {
  var part = el('div', 'rp-help-find'), form = el('form'), search = el('input'), found = el('div');
  search.type = 'search';
  search.placeholder = words[1];
  search.setAttribute('aria-label', words[1]);
  search.maxLength = 200;
  search.value = query;
  found.setAttribute('aria-live', 'polite');
  form.setAttribute('role', 'search');
  form.append(search);
  form.onsubmit = function (e) { e.preventDefault(); fill(search.value); };
  search.oninput = function () {
    clearTimeout(timer);
    timer = setTimeout(function () { fill(search.value); }, 250);
  };
  part.append(form, found);
  function fill(q) {
    ask('?q=' + encodeURIComponent(q)).then(function (answer) {
      found.textContent = '';
      found.append(answer.articles.length ? items(answer.articles, 'help') : el('p', 'rp-help-none', words[2]));
    }, function (error) { found.textContent = error.message || ''; });
  }
  shell(part, search);
  fill(query);
}

/* Articles for the first question, once per conversation. */
function suggest(conversation) {
  var key = 'rapport:offered:' + conversation;
  try { if (sessionStorage.getItem(key)) offered[conversation] = 1; } catch (e) {}
  if (offered[conversation]) return;
  offered[conversation] = 1;
  ask('/suggest?conversation=' + encodeURIComponent(conversation)).then(function (answer) {
    try { sessionStorage.setItem(key, '1'); } catch (e) {}
    if (!answer.articles.length) return;
    box && box.remove();
    box = el('section', 'rp-suggest');
    box.setAttribute('aria-label', words[3]);
    box.append(el('h3', '', words[3]), items(answer.articles, 'suggested', conversation));
    var log = at.frame.querySelector('.rp-log');
    log && log.after(box);
    // Once a person answers, the offer has done its part.
    window.Rapport('on', 'message', function gone() {
      box && box.remove();
      window.Rapport('off', 'message', gone);
    });
  }, function () { offered[conversation] = 0; });
}

/* A link to an article's public page in the chat: read here if it is this
   server's, else opened as any link. */
function card(href) {
  var url = new URL(href), parts = url.pathname.split('/');
  if (url.origin != at.base || parts.length != 5) return window.open(href, '_blank', 'noopener');
  read(decodeURIComponent(parts[4]), 'card', null);
}

/* An article, kept as read, with the two ways on. */
function read(id, source, conversation) {
  ask('/read', { article_id: id, source: source, conversation_id: conversation }).then(function (article) {
    var part = el('article', 'rp-article'), title = el('h3', '', article.title), body = el('div', 'rp-article-body');
    var yes = button('rp-help-answered', words[4], function () { verdict('answered'); });
    var talk = button('rp-help-talk', words[5], function () {
      verdict('talk');
      box && box.remove();
      leave();
    });
    var status = el('p', 'rp-help-status');
    status.setAttribute('role', 'status');
    title.tabIndex = -1;
    // Rendered and cleaned by the server (no script, handler or style).
    body.innerHTML = article.html;
    [].forEach.call(body.querySelectorAll('a'), function (a) {
      a.target = '_blank';
      a.rel = 'noopener noreferrer nofollow';
    });
    var ways = el('div', 'rp-help-ways');
    ways.append(yes, talk);
    part.append(title, body, ways, status);
    shell(part, title);
    at.emit('article', { id: article.id, title: article.title });
    function verdict(said) {
      ask('/verdict', { read_id: article.read_id, verdict: said }).then(function () {
        if (said == 'answered') {
          status.textContent = words[7];
          yes.disabled = true;
          at.emit('answered', { id: article.id, title: article.title });
        }
      }, function (error) { status.textContent = error.message || ''; });
    }
  }, function (error) {
    if (view) view.append(el('p', 'rp-help-none', error.message || ''));
  });
}

/* Rapport widget extras: parts of the panel few shoppers need, loaded on
   first use so the core (loader, glue, WASM) stays small. The core decides
   when each is shown and does what it asks; this only draws.
   show(frame, name, value, text, more, core, config, emit, base, site):
     name   'topics' | 'ask' | 'transcript' | 'avatar' | 'earlier' | 'away' |
            'away_email' | 'new'
     value  null to remove it; else its state (the picked topic key, the
            picture's URL, the away note, the ended conversation's id, or '')
     text, more  the words it shows, in the shopper's language
     core   the chat's exports: pick_topic(key), save_email(address),
            transcript(), earlier(), away_email(address), start_afresh(),
            visitor_token()
     emit   tells the page (Rapport('on', name, fn))
   Placeholders __CSS__ and __RATE_WORDS__ (the indexes of the rating's
   words in config.texts) are filled in by `cargo xtask dist`. */
var drawn = {}, styled, at = {};
/* Faces from Unicode 6.0, which even old phones' fonts draw. */
var FACES = ['\u{1F61E}', '\u{1F612}', '\u{1F610}', '\u{1F60A}', '\u{1F604}'];

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

/* Draws one part; returns it, to be placed by the caller. */
var parts = {
  topics: function (value, text, more, core, config) {
    var group = el('div', 'rp-topics');
    group.setAttribute('role', 'group');
    group.setAttribute('aria-label', text);
    (config.topics || []).forEach(function (topic) {
      var b = button('rp-topic', topic.label, function () { core.pick_topic(topic.key); });
      b.setAttribute('data-key', topic.key);
      group.append(b);
    });
    return group;
  },
  ask: function (value, text, more, core) {
    var form = el('form', 'rp-ask'), label = el('label', '', text), box = el('textarea', 'rp-email');
    box.rows = 1;
    box.autocomplete = 'email';
    label.append(box);
    var save = el('button', '', more);
    save.type = 'submit';
    form.append(label, save);
    form.onsubmit = function (e) {
      e.preventDefault();
      core.save_email(box.value);
    };
    return form;
  },
  transcript: function (value, text, more, core) {
    return button('rp-transcript', text, function () { core.transcript(); });
  },
  earlier: function (value, text, more, core) {
    var item = el('li', 'rp-earlier');
    item.append(button('', text, function () { core.earlier(); }));
    return item;
  },
  away: function (value) {
    var note = el('p', 'rp-away', value);
    note.setAttribute('role', 'status');
    return note;
  },
  /* Outside business hours the message is left with an address to answer. */
  away_email: function (value, text, more, core) {
    var box = el('textarea', 'rp-email');
    box.rows = 1;
    box.autocomplete = 'email';
    box.placeholder = text;
    box.setAttribute('aria-label', text);
    box.oninput = function () { core.away_email(box.value); };
    return box;
  },
  /* After a chat ended: how was it (where the site asks), and start
     another, typing at once. */
  new: function (value, text, more, core, config, frame) {
    var end = el('div', 'rp-end');
    end.append(button('rp-new', text, function () {
      core.start_afresh();
      setTimeout(function () { frame.querySelector('.rp-input').focus(); });
    }));
    rating(end, value, core, config);
    return end;
  },
  avatar: function (value) {
    var img = el('img', 'rp-avatar');
    img.alt = '';
    img.width = img.height = 32;
    img.src = value;
    return img;
  }
};

/* Where each part goes in the core's panel. */
function place(frame, name, part) {
  var q = function (s) { return frame.querySelector(s); };
  if (name == 'topics') q('.rp-waiting').after(part);
  else if (name == 'ask') q('.rp-notice').before(part);
  else if (name == 'transcript') q('.rp-panel').append(part);
  else if (name == 'earlier') q('.rp-greeting').after(part);
  else if (name == 'away') q('.rp-log').after(part);
  else if (name == 'away_email') q('.rp-composer').prepend(part);
  else if (name == 'new') q('.rp-composer').before(part);
  else q('.rp-header').prepend(part);
}

/* "How was your chat?" on the site's scale (config.rating: 'faces' or
   'stars'), with a comment if the shopper likes. The server says whether
   this conversation is asked (the site rates chats, its agent did not
   close it without asking) and what was given; a rating may be changed
   for a day. Native radio buttons: arrows move, a screen reader names each
   point. */
function rating(end, id, core, config) {
  var token = core.visitor_token(), scale = config.rating;
  if (!id || !token || !scale || scale == 'off') return;
  var words = __RATE_WORDS__.map(function (i) { return (config.texts || [])[i] || ''; });
  var url = at.base + '/api/widget/rating?site=' + encodeURIComponent(at.site) +
    '&conversation=' + encodeURIComponent(id);
  function ask(method, body) {
    return fetch(url, {
      method: method,
      headers: { Authorization: 'Bearer ' + token, 'Content-Type': 'application/json' },
      body: body && JSON.stringify(body)
    }).then(function (r) {
      return r.json().then(function (answer) {
        if (!r.ok) throw answer.error || {};
        return answer;
      });
    });
  }
  ask('GET').then(function (state) {
    if (!state.asked || !state.changeable) return;
    var form = el('form', 'rp-rate'), set = el('fieldset'), points = el('div', 'rp-scale rp-' + state.scale);
    var comment = el('textarea', 'rp-comment'), note = el('label', '', words[6]);
    var send = el('button', 'rp-rate-send', words[7]), status = el('p', 'rp-rate-status');
    set.append(el('legend', '', words[0]), points);
    for (var n = 1; n <= 5; n++) {
      var point = el('label'), input = el('input');
      input.type = 'radio';
      input.name = 'rp-score';
      input.value = n;
      input.required = true;
      input.checked = state.score == n;
      var mark = el('span', 'rp-mark', state.scale == 'stars' ? '\u2605' : FACES[n - 1]);
      mark.setAttribute('aria-hidden', 'true');
      point.append(input, mark, el('span', 'rp-sr', words[n]));
      point.title = words[n];
      points.append(point);
    }
    comment.rows = 2;
    comment.maxLength = 1000;
    comment.value = state.comment || '';
    note.append(comment);
    send.type = 'submit';
    status.setAttribute('role', 'status');
    form.append(set, note, send, status);
    form.onsubmit = function (e) {
      e.preventDefault();
      var picked = form.querySelector('input:checked');
      send.disabled = true;
      ask('POST', { score: +picked.value, comment: comment.value }).then(function (given) {
        status.textContent = words[8];
        at.emit('rated', { conversation: id, score: given.score, comment: given.comment || null });
      }, function (error) {
        status.textContent = error.message || '';
      }).then(function () { send.disabled = false; });
    };
    end.prepend(form);
  }, function () {});
}

export function show(frame, name, value, text, more, core, config, emit, base, site) {
  at = { emit: emit, base: base, site: site };
  if (!styled) {
    styled = el('style', '', '__CSS__');
    frame.append(styled);
  }
  var was = drawn[name];
  if (value == null) {
    if (was) was.part.remove();
    delete drawn[name];
    return;
  }
  if (was && was.text == text && (name == 'topics' || was.value == value)) {
    if (name == 'topics') mark(was.part, value);
    return;
  }
  if (was) was.part.remove();
  var part = parts[name](value, text, more, core, config, frame);
  drawn[name] = { part: part, value: value, text: text };
  if (name == 'topics') mark(part, value);
  place(frame, name, part);
}

/* The picked topic's button is pressed; redrawn in place, so focus stays. */
function mark(group, key) {
  [].forEach.call(group.children, function (b) {
    b.setAttribute('aria-pressed', String(b.getAttribute('data-key') == key));
  });
}

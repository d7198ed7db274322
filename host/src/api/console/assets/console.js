// The admin console. It keeps the admin key in this tab's sessionStorage and sends it as a
// bearer header to hintd's own /api/v1; it builds every element with textContent, so nothing
// the API returns (plugin errors, webhook names, messages) is ever parsed as markup.
'use strict';
(function () {
  var KEY = 'hintd.console.key';
  var PAGES = ['plugins', 'webhooks', 'hints', 'conversations', 'playground'];
  var ui = {};
  // SVG's namespace: an identifier, never fetched (spelt in parts so the page holds no URL).
  var SVG_NS = ['http:', '', 'www.w3.org', '2000', 'svg'].join('/');
  // Bumped on each navigation, so that an answer for a page left behind is dropped.
  var generation = 0;

  function $(id) { return document.getElementById(id); }

  // el('td', {class: 'num'}, 'text', child, ...): an element; null/undefined children skipped.
  function el(tag, attrs) {
    var node = document.createElement(tag);
    var a = attrs || {};
    Object.keys(a).forEach(function (k) {
      if (a[k] === null || a[k] === undefined || a[k] === false) return;
      if (k === 'on') Object.keys(a.on).forEach(function (ev) { node.addEventListener(ev, a.on[ev]); });
      else node.setAttribute(k, a[k] === true ? '' : a[k]);
    });
    for (var i = 2; i < arguments.length; i++) append(node, arguments[i]);
    return node;
  }
  function append(node, child) {
    if (child === null || child === undefined || child === false) return;
    if (Array.isArray(child)) { child.forEach(function (c) { append(node, c); }); return; }
    node.appendChild(typeof child === 'object' ? child : document.createTextNode(String(child)));
  }
  function svg(tag, attrs) {
    var node = document.createElementNS(SVG_NS, tag);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    for (var i = 2; i < arguments.length; i++) append(node, arguments[i]);
    return node;
  }
  function badge(text) { return el('span', { class: 'badge ' + text }, text); }
  function pct(x) { return (Math.round((x || 0) * 1000) / 10) + ' %'; }
  function ms(us) { return us === undefined || us === null ? '' : (Math.round(us / 100) / 10) + ' ms'; }
  function time(msValue) { return msValue ? new Date(msValue).toISOString().replace('T', ' ').replace(/\.\d+Z$/, 'Z') : ''; }

  function key() { return sessionStorage.getItem(KEY); }

  function setState(name, text) {
    ui.state.setAttribute('data-state', name);
    ui.stateText.textContent = text || '';
  }

  // An API call. Resolves to the parsed body; rejects with {status, code, message}. A 401
  // signs out: the key in this tab is no longer the admin key.
  function api(method, path, body) {
    var headers = { Authorization: 'Bearer ' + key(), Accept: 'application/json' };
    var init = { method: method, headers: headers, cache: 'no-store', credentials: 'omit', referrerPolicy: 'no-referrer' };
    if (body !== undefined) {
      headers['Content-Type'] = 'application/json';
      init.body = JSON.stringify(body);
    }
    return fetch(path, init).then(function (r) {
      return r.text().then(function (text) {
        var data = null;
        try { data = text ? JSON.parse(text) : null; } catch (e) { data = null; }
        if (r.ok) return data;
        var err = (data && data.error) || {};
        var failure = { status: r.status, code: err.code || 'http_' + r.status, message: err.message || text || r.statusText, field: err.field };
        if (r.status === 401) refused(failure.message);
        throw failure;
      });
    }, function () {
      throw { status: 0, code: 'unreachable', message: 'hintd cannot be reached' };
    });
  }

  function describe(err) {
    return (err.field ? err.field + ': ' : '') + (err.message || err.code || String(err));
  }

  // --- sign-in ---------------------------------------------------------------------------
  function refused(message) {
    sessionStorage.removeItem(KEY);
    showSignin();
    setState('refused', 'Refused: ' + (message || 'wrong admin key'));
  }

  function showSignin() {
    generation++;
    ui.signin.hidden = false;
    ui.nav.hidden = true;
    ui.signout.hidden = true;
    ui.view.textContent = '';
    ui.keyInput.value = '';
    ui.keyInput.focus();
  }

  function signIn(ev) {
    ev.preventDefault();
    var typed = ui.keyInput.value.trim();
    if (!typed) return;
    sessionStorage.setItem(KEY, typed);
    setState('loading', 'Checking the key…');
    // Any admin call proves the key; the plugin list is the first page anyway.
    api('GET', 'api/v1/plugins').then(function () {
      ui.signin.hidden = true;
      route();
    }, function (err) {
      if (err.status !== 401) {
        sessionStorage.removeItem(KEY);
        setState(err.status ? 'error' : 'unreachable', 'Could not sign in: ' + describe(err));
      }
    });
  }

  function signOut() {
    sessionStorage.removeItem(KEY);
    showSignin();
    setState('signedout', 'Signed out.');
  }

  // --- routing -----------------------------------------------------------------------------
  function route() {
    if (!key()) { showSignin(); setState('signedout', 'Sign in with the admin key.'); return; }
    var name = (location.hash || '#plugins').slice(1).split('/')[0];
    if (PAGES.indexOf(name) < 0) name = 'plugins';
    ui.signin.hidden = true;
    ui.nav.hidden = false;
    ui.signout.hidden = false;
    Array.prototype.forEach.call(ui.nav.querySelectorAll('a'), function (a) {
      if (a.getAttribute('data-page') === name) a.setAttribute('aria-current', 'page');
      else a.removeAttribute('aria-current');
    });
    document.documentElement.setAttribute('data-page', name);
    var gen = ++generation;
    ui.view.textContent = '';
    setState('loading', 'Loading…');
    PAGE_RENDERERS[name](gen);
  }

  // Runs `then` with the answer of `promise` unless the user has moved on meanwhile; failures
  // other than 401 (handled by api) show as the error state.
  function load(gen, promise, then) {
    return promise.then(function (data) {
      if (gen === generation) then(data);
    }, function (err) {
      if (gen === generation && err.status !== 401) {
        setState(err.status ? 'error' : 'unreachable', describe(err));
      }
    });
  }

  // --- plugins -----------------------------------------------------------------------------
  // hintd keeps totals, not series: the sparklines are drawn from the samples this tab takes
  // while the Plugins page is open (every SAMPLE_MS), the newest SPARK_POINTS of them.
  var SAMPLE_MS = 5000;
  var SPARK_POINTS = 40;
  var samples = {};

  function pluginsPage(gen) {
    load(gen, api('GET', 'api/v1/plugins'), function (list) {
      renderPlugins(gen, list);
      var timer = setInterval(function () {
        if (gen !== generation) { clearInterval(timer); return; }
        api('GET', 'api/v1/plugins').then(function (l) {
          if (gen !== generation) return;
          // Re-rendering replaces the Reload button: keep the keyboard focus on it.
          var focused = document.activeElement && document.activeElement.id === 'reload';
          renderPlugins(gen, l);
          if (focused) $('reload').focus();
        }, function () { /* the next sample, or a navigation, will tell */ });
      }, SAMPLE_MS);
    });
  }

  function sample(p) {
    if (!p.calls) return samples[p.name] || [];
    var c = p.calls;
    var list = samples[p.name] = (samples[p.name] || []).concat([{
      calls: c.ok + c.error + c.timeout + c.trap + c.oom + c.rejected, latency: c.mean_latency_us
    }]);
    if (list.length > SPARK_POINTS) list.shift();
    return list;
  }

  // Calls made between samples (accent) and mean latency (muted), each scaled to its own
  // maximum.
  function sparkline(points) {
    if (points.length < 2) return el('span', { class: 'muted' }, '…');
    var W = 80, H = 22;
    var calls = points.slice(1).map(function (pt, i) { return pt.calls - points[i].calls; });
    var latency = points.slice(1).map(function (pt) { return pt.latency; });
    var line = function (values, cls) {
      var max = Math.max.apply(null, values.concat([1]));
      var step = values.length > 1 ? W / (values.length - 1) : W;
      var coords = values.map(function (v, i) {
        return (Math.round(i * step * 10) / 10) + ',' + (Math.round((H - 2 - (H - 4) * v / max) * 10) / 10);
      });
      if (coords.length === 1) coords.push(W + ',' + coords[0].split(',')[1]);
      return svg('polyline', { class: cls, points: coords.join(' ') });
    };
    return svg('svg', { class: 'spark', width: W, height: H, role: 'img', 'data-points': points.length,
      'aria-label': 'calls per sample: ' + calls.join(' ') + '; mean latency µs: ' + latency.join(' ') },
      line(calls, 'calls'), line(latency, 'latency'));
  }

  function renderPlugins(gen, list) {
    var reload = el('button', { type: 'button', id: 'reload' }, 'Reload');
    reload.addEventListener('click', function () {
      reload.disabled = true;
      setState('loading', 'Reloading plugins…');
      load(gen, api('POST', 'api/v1/plugins/reload'), function (after) {
        renderPlugins(gen, after);
        setState('ready', '');
        ui.view.setAttribute('data-reloads', after.reloads);
      }).then(function () { reload.disabled = false; });
    });
    ui.view.textContent = '';
    ui.view.appendChild(el('h2', null, 'Plugins', reload,
      el('span', { class: 'muted' }, (list.loaded ? 'loaded' : 'loading') + ', ' + list.reloads + ' load(s)')));
    if (!list.plugins.length) {
      setState('empty', 'No plugins: put plugin directories in the plugin directory, then Reload.');
      return;
    }
    var head = el('tr', null, ['Plugin', 'Status', 'Circuits s / f / o', 'Calls ok', 'Error', 'Timeout',
      'Trap', 'OOM', 'Rejected', 'Skipped', 'Busy', 'Mean', 'p50', 'p99', 'Max', 'Shown', 'Chosen', 'Acceptance', 'Calls, latency'].map(function (h, i) {
      return el('th', { scope: 'col', class: i >= 3 && h !== 'Calls, latency' ? 'num' : null,
        title: i === 2 ? 'suggest / feedback / observe' : null }, h);
    }));
    var rows = list.plugins.map(function (p) {
      var c = p.calls || {};
      var h = p.hints || {};
      var version = p.manifest && p.manifest.version ? ' ' + p.manifest.version : '';
      var cells = [
        el('th', { scope: 'row' }, p.name + version, p.directory ? el('div', { class: 'muted mono' }, p.directory) : null,
          p.load_error ? el('div', { class: 'error load-error' }, p.load_error) : null),
        el('td', null, badge(p.status)),
        // A plugin that is not loaded has no circuits to speak of.
        el('td', { class: 'circuits' }, p.status !== 'loaded' ? el('span', { class: 'muted' }, '—') :
          ['suggest', 'feedback', 'observe'].map(function (f) { return [badge(p.circuits[f]), ' ']; }))
      ];
      ['ok', 'error', 'timeout', 'trap', 'oom', 'rejected', 'skipped', 'busy'].forEach(function (k) {
        cells.push(el('td', { class: 'num' }, p.calls ? c[k] : ''));
      });
      cells.push(el('td', { class: 'num' }, p.calls ? ms(c.mean_latency_us) : ''));
      cells.push(el('td', { class: 'num' }, p.calls ? ms(c.p50_latency_us) : ''));
      cells.push(el('td', { class: 'num' }, p.calls ? ms(c.p99_latency_us) : ''));
      cells.push(el('td', { class: 'num' }, p.calls ? ms(c.max_latency_us) : ''));
      cells.push(el('td', { class: 'num' }, p.hints ? h.hints_shown : ''));
      cells.push(el('td', { class: 'num' }, p.hints ? h.chosen : ''));
      cells.push(el('td', { class: 'num' }, p.hints ? pct(h.acceptance_rate) : ''));
      cells.push(el('td', { class: 'trend' }, p.calls ? sparkline(sample(p)) : ''));
      return el('tr', { 'data-plugin': p.name, 'data-status': p.status }, cells);
    });
    ui.view.appendChild(el('table', { id: 'plugins' }, el('thead', null, head), el('tbody', null, rows)));
    setState('ready', '');
  }

  // --- webhooks ----------------------------------------------------------------------------
  function webhooksPage(gen) {
    load(gen, Promise.all([api('GET', 'api/v1/webhooks'), api('GET', 'api/v1/webhooks/events')]), function (both) {
      renderWebhooks(gen, both[0], both[1].events);
    });
  }

  function webhookForm(gen, events, existing, done) {
    var name = el('input', { id: 'wh-name', required: true, value: existing ? existing.name : '' });
    var url = el('input', { id: 'wh-url', type: 'url', required: true, value: existing ? existing.url : '' });
    var evs = el('input', { id: 'wh-events', required: true, value: existing ? existing.events.join(', ') : '',
      placeholder: events.slice(0, 4).join(', ') });
    var account = el('input', { id: 'wh-account', value: existing && existing.account ? existing.account : '', disabled: !!existing });
    var form = el('form', { class: 'form', id: existing ? 'wh-edit' : 'wh-create' },
      el('label', { for: 'wh-name' }, 'Name'), name,
      el('label', { for: 'wh-url' }, 'URL'), url,
      el('label', { for: 'wh-events' }, 'Events'), evs,
      el('label', { for: 'wh-account' }, 'Account'), account,
      el('span'), el('div', { class: 'row' },
        el('button', { type: 'submit' }, existing ? 'Save' : 'Create'),
        el('span', { class: 'muted' }, 'events: ' + events.join(', '))));
    form.addEventListener('submit', function (ev) {
      ev.preventDefault();
      var body = { name: name.value, url: url.value, events: evs.value.split(',').map(function (s) { return s.trim(); }).filter(Boolean) };
      if (!existing && account.value.trim()) body.account = account.value.trim();
      var call = existing ? api('PUT', 'api/v1/webhooks/' + encodeURIComponent(existing.id), body) : api('POST', 'api/v1/webhooks', body);
      setState('loading', existing ? 'Saving…' : 'Creating…');
      load(gen, call, done);
    });
    return form;
  }

  function renderWebhooks(gen, list, events, secretNote) {
    var reload = function (note) {
      load(gen, api('GET', 'api/v1/webhooks'), function (l) { renderWebhooks(gen, l, events, note); });
    };
    ui.view.textContent = '';
    var create = el('button', { type: 'button', id: 'wh-new' }, 'New webhook');
    ui.view.appendChild(el('h2', null, 'Webhooks', create,
      el('span', { class: 'muted' }, list.webhooks.length + ' (at most ' + list.limit_per_account + ' per account)')));
    if (secretNote) ui.view.appendChild(secretNote);
    // The form or deliveries of one webhook open here, above the list.
    var slot = el('div', { id: 'webhook-detail' });
    ui.view.appendChild(slot);
    create.addEventListener('click', function () {
      slot.textContent = '';
      slot.appendChild(webhookForm(gen, events, null, function (made) {
        reload(shownOnce('Created ' + made.name, made));
      }));
      $('wh-name').focus();
      setState('ready', '');
    });
    if (!list.webhooks.length) {
      setState('empty', 'No webhooks yet: create one to receive hintd’s events.');
      return;
    }
    var head = el('tr', null, ['Name', 'URL', 'Events', 'Account', 'Status', 'Last success', 'Last error', 'Actions'].map(function (h) {
      return el('th', { scope: 'col' }, h);
    }));
    var rows = list.webhooks.map(function (w) {
      var last = w.errors && w.errors[0];
      var act = function (label, fn, cls) {
        var b = el('button', { type: 'button', class: cls || null, 'data-action': label.toLowerCase().replace(/ /g, '-') }, label);
        b.addEventListener('click', fn);
        return b;
      };
      var actions = el('div', { class: 'row actions' },
        act('Attempts', function () { openAttempts(gen, w, slot); }),
        act('Edit', function () {
          slot.textContent = '';
          slot.appendChild(el('h3', null, 'Edit ' + w.name));
          slot.appendChild(webhookForm(gen, events, w, function () { reload(); }));
          $('wh-name').focus();
        }),
        act(w.status === 'active' ? 'Disable' : 'Enable', function () {
          load(gen, api('PUT', 'api/v1/webhooks/' + encodeURIComponent(w.id), { status: w.status === 'active' ? 'disabled' : 'active' }), function () { reload(); });
        }),
        act('Rotate secret', function () {
          if (!confirm('Rotate the signing secret of ' + w.name + '? The old one keeps signing for 24 h.')) return;
          load(gen, api('POST', 'api/v1/webhooks/' + encodeURIComponent(w.id) + '/rotate-secret'), function (r) {
            reload(shownOnce('New secret of ' + w.name, r));
          });
        }),
        act('Delete', function () {
          if (!confirm('Delete webhook ' + w.name + '?')) return;
          load(gen, api('DELETE', 'api/v1/webhooks/' + encodeURIComponent(w.id)), function () { reload(); });
        }, 'danger'));
      return el('tr', { 'data-webhook': w.id },
        el('th', { scope: 'row' }, w.name, el('div', { class: 'muted mono' }, w.id)),
        el('td', { class: 'mono' }, w.url),
        el('td', null, w.events.join(', ')),
        el('td', null, w.account || el('span', { class: 'muted' }, 'all')),
        el('td', null, badge(w.status), w.disabled_reason ? ' ' + w.disabled_reason : '',
          w.failing_since ? el('div', { class: 'muted' }, 'failing since ' + w.failing_since) : null),
        el('td', null, w.last_success_at || el('span', { class: 'muted' }, 'never')),
        el('td', null, last ? el('div', { class: 'error last-error' }, last.error || 'HTTP ' + last.http_status) : '',
          last ? el('div', { class: 'muted' }, last.time) : null),
        el('td', null, actions));
    });
    ui.view.appendChild(el('table', { id: 'webhooks' }, el('thead', null, head), el('tbody', null, rows)));
    setState('ready', '');
  }

  // The secret of a creation or rotation: shown here once, never again.
  function shownOnce(title, answer) {
    return el('div', { class: 'secret', id: 'secret', role: 'alert' }, title + '. Signing secret (shown once, store it now): ',
      el('code', { class: 'mono' }, answer.secret),
      (answer.warnings || []).map(function (w) { return el('div', null, 'Warning: ' + w); }));
  }

  function openAttempts(gen, w, slot) {
    var base = 'api/v1/webhooks/' + encodeURIComponent(w.id);
    setState('loading', 'Loading attempts…');
    // Messages first, attempts after: a delivery's attempt is committed with its message's new
    // status, so a message no longer pending always has its attempt in the list read next.
    // (Read together, the attempts could be read just before a delivery and the messages just
    // after it: the page would stop following with the attempt missing.)
    var read = api('GET', base + '/messages?limit=50').then(function (messages) {
      return api('GET', base + '/attempts?limit=50').then(function (attempts) { return [attempts, messages]; });
    });
    load(gen, read, function (both) {
      slot.textContent = '';
      var since = el('input', { id: 'recover-since', type: 'datetime-local', step: 1 });
      var recover = el('form', { class: 'row', id: 'recover' }, el('label', { for: 'recover-since' }, 'Recover failed messages since'), since,
        el('button', { type: 'submit' }, 'Recover'), el('span', { id: 'recovered', class: 'muted' }));
      recover.addEventListener('submit', function (ev) {
        ev.preventDefault();
        if (!since.value) return;
        load(gen, api('POST', base + '/recover', { since: new Date(since.value).toISOString() }), function (r) {
          $('recovered').textContent = r.requeued + ' message(s) queued again';
          setTimeout(function () { if (gen === generation) openAttempts(gen, w, slot); }, 1500);
        });
      });
      var refresh = el('button', { type: 'button', id: 'attempts-refresh' }, 'Refresh');
      refresh.addEventListener('click', function () { openAttempts(gen, w, slot); });
      slot.appendChild(el('div', { class: 'panel', id: 'attempts-of', 'data-webhook': w.id },
        el('h3', null, 'Deliveries of ' + w.name + ' ', refresh), recover,
        el('h3', null, 'Messages'), messagesTable(gen, w, both[1].messages, slot),
        el('h3', null, 'Attempts, newest first'), attemptsTable(both[0].attempts)));
      setState('ready', '');
      // While a delivery is pending its attempt is yet to come: follow it until it ends.
      if (both[1].messages.some(function (m) { return m.status === 'pending'; })) {
        setTimeout(function () { if (gen === generation && document.body.contains(slot)) openAttempts(gen, w, slot); }, 1000);
      }
    });
  }

  function messagesTable(gen, w, messages, slot) {
    if (!messages.length) return el('p', { class: 'muted' }, 'No messages yet.');
    var head = el('tr', null, ['Message', 'Event', 'Status', 'Attempts', 'Created', 'Last error', ''].map(function (h) { return el('th', { scope: 'col' }, h); }));
    return el('table', { id: 'messages' }, el('thead', null, head), el('tbody', null, messages.map(function (m) {
      var resend = el('button', { type: 'button', 'data-action': 'resend', disabled: !m.has_payload || m.status === 'pending' }, 'Resend');
      resend.addEventListener('click', function () {
        resend.disabled = true;
        load(gen, api('POST', 'api/v1/webhooks/' + encodeURIComponent(w.id) + '/messages/' + encodeURIComponent(m.id) + '/resend'), function () {
          // Now pending: openAttempts follows it until its new attempt is logged.
          openAttempts(gen, w, slot);
        });
      });
      return el('tr', { 'data-message': m.id, 'data-status': m.status },
        el('td', { class: 'mono' }, m.id), el('td', null, m.event_type), el('td', null, badge(m.status)),
        el('td', { class: 'num' }, m.attempts), el('td', null, time(m.created_at_ms)),
        el('td', { class: 'error' }, m.last_error || ''), el('td', null, resend));
    })));
  }

  function attemptsTable(attempts) {
    if (!attempts.length) return el('p', { class: 'muted' }, 'No attempts yet.');
    var head = el('tr', null, ['#', 'Message', 'Attempt', 'At', 'Duration', 'Outcome', 'HTTP', 'Error', 'Response'].map(function (h) { return el('th', { scope: 'col' }, h); }));
    return el('table', { id: 'attempts' }, el('thead', null, head), el('tbody', null, attempts.map(function (a) {
      return el('tr', { 'data-attempt': a.id, 'data-outcome': a.outcome },
        el('td', { class: 'num' }, a.id), el('td', { class: 'mono' }, a.message_id), el('td', { class: 'num' }, a.attempt),
        el('td', null, time(a.at_ms)), el('td', { class: 'num' }, a.duration_ms + ' ms'), el('td', null, badge(a.outcome)),
        el('td', { class: 'num' }, a.http_status || ''), el('td', { class: 'error' }, a.error || ''),
        el('td', { class: 'mono' }, a.response_snippet || ''));
    })));
  }

  // --- hints -------------------------------------------------------------------------------
  function hintsPage(gen) {
    load(gen, api('GET', 'api/v1/hints/stats'), function (s) {
      ui.view.appendChild(el('h2', null, 'Hints'));
      ui.view.appendChild(el('p', null,
        s.answers_shown + ' answers with hints, ' + s.answers_empty + ' without, ' + s.answers_chosen + ' chosen: acceptance ',
        el('strong', { id: 'acceptance' }, pct(s.acceptance_rate)), '; mean chosen position ' + (Math.round(s.mean_chosen_position * 100) / 100) + '.'));
      if (!s.answers_shown && !s.answers_empty) {
        setState('empty', 'No answers yet: hints appear here once hintd has served some.');
        return;
      }
      ui.view.appendChild(el('h3', null, 'Acceptance per plugin'));
      var head = el('tr', null, ['Plugin', 'Answers shown', 'Hints shown', 'Chosen', 'Acceptance', ''].map(function (h, i) {
        return el('th', { scope: 'col', class: i && i < 5 ? 'num' : null }, h);
      }));
      ui.view.appendChild(el('table', { id: 'acceptance-table' }, el('thead', null, head), el('tbody', null, s.plugins.map(function (p) {
        return el('tr', { 'data-plugin': p.plugin }, el('th', { scope: 'row' }, p.plugin),
          el('td', { class: 'num' }, p.answers_shown), el('td', { class: 'num' }, p.hints_shown), el('td', { class: 'num' }, p.chosen),
          el('td', { class: 'num' }, pct(p.acceptance_rate)),
          el('td', { class: 'bar-cell' }, el('div', { class: 'meter', role: 'img', 'aria-label': pct(p.acceptance_rate) },
            el('span', { style: null, 'data-width': Math.min(100, Math.round(p.acceptance_rate * 100)) }))));
      }))));
      // The CSP forbids inline styles: widths are set through the DOM, which CSP allows.
      Array.prototype.forEach.call(ui.view.querySelectorAll('.meter span'), function (s2) { s2.style.width = s2.getAttribute('data-width') + '%'; });
      ui.view.appendChild(el('h3', null, 'Chosen position'));
      ui.view.appendChild(histogram(s.chosen_positions));
      ui.view.appendChild(acceptanceOverTime(gen));
      ui.view.appendChild(latencyPerPlugin(gen));
      setState('ready', '');
    });
  }

  // A bar per position, drawn as inline SVG (no chart library: a histogram is a few rects).
  function histogram(pairs) {
    if (!pairs.length) return el('p', { class: 'muted', id: 'positions' }, 'No hint chosen yet.');
    var W = 36, H = 120, top = 16, bottom = 18;
    var max = Math.max.apply(null, pairs.map(function (p) { return p[1]; }));
    var chart = svg('svg', { class: 'chart', id: 'positions', width: pairs.length * W + 10, height: H + top + bottom, role: 'img',
      'aria-label': pairs.map(function (p) { return 'position ' + p[0] + ': ' + p[1]; }).join(', ') });
    pairs.forEach(function (p, i) {
      var h = Math.max(1, Math.round(H * p[1] / max));
      var x = 5 + i * W;
      chart.appendChild(svg('rect', { x: x + 4, y: top + H - h, width: W - 8, height: h, 'data-position': p[0], 'data-choices': p[1] }));
      chart.appendChild(svg('text', { x: x + W / 2, y: top + H - h - 3, 'text-anchor': 'middle' }, String(p[1])));
      chart.appendChild(svg('text', { x: x + W / 2, y: top + H + 13, 'text-anchor': 'middle' }, '#' + p[0]));
    });
    return chart;
  }

  // --- conversations -----------------------------------------------------------------------
  function conversationsPage(gen) {
    var parts = location.hash.split('/').slice(1).map(decodeURIComponent);
    var source = el('select', { id: 'conv-source' }, ['chat2desk', 'chatwoot', 'whazing', 'api'].map(function (s) {
      return el('option', { value: s, selected: parts[0] === s }, s);
    }));
    var account = el('input', { id: 'conv-account', required: true, value: parts[1] || '' });
    var dialog = el('input', { id: 'conv-dialog', required: true, value: parts[2] || '' });
    var form = el('form', { class: 'row', id: 'conv-open' },
      el('label', { for: 'conv-source' }, 'Source'), source, el('label', { for: 'conv-account' }, 'Account'), account,
      el('label', { for: 'conv-dialog' }, 'Dialog'), dialog, el('button', { type: 'submit' }, 'Open'));
    var out = el('div', { id: 'conversation' });
    form.addEventListener('submit', function (ev) {
      ev.preventDefault();
      location.hash = ['#conversations', source.value, account.value.trim(), dialog.value.trim()].map(function (p, i) {
        return i ? encodeURIComponent(p) : p;
      }).join('/');
    });
    ui.view.appendChild(el('h2', null, 'Conversations'));
    ui.view.appendChild(form);
    ui.view.appendChild(out);
    if (parts.length < 3 || !parts[1] || !parts[2]) {
      ui.view.appendChild(conversationBrowser(gen));
      setState('ready', '');
      account.focus();
      return;
    }
    var path = 'api/v1/conversations/' + parts.slice(0, 3).map(encodeURIComponent).join('/');
    load(gen, api('GET', path), function (c) {
      var d = c.dialog;
      out.appendChild(el('p', null, c.source + ' / ' + c.account + ' / ' + c.dialog_id +
        (d ? ' — ' + d.status + ', opened ' + time(d.opened_at_ms) + (d.transport ? ', ' + d.transport : '') : ' — no stored dialog row')));
      out.appendChild(el('div', { class: 'panel' }, el('h3', null, 'Messages (' + c.messages.length + ', notes included)'), messageList(c.messages, 'messages')));
      out.appendChild(el('div', { class: 'panel' }, el('h3', null, 'Context the plugins get (' + c.context.length + ')'), messageList(c.context, 'context')));
      setState(c.messages.length ? 'ready' : 'empty', c.messages.length ? '' : 'This dialog has no messages.');
    });
  }

  function messageList(messages, id) {
    if (!messages.length) return el('p', { class: 'muted' }, 'None.');
    return el('ol', { class: 'messages', id: id }, messages.map(function (m) {
      return el('li', { class: (m.role || '') + (m.private ? ' note' : '') },
        el('span', { class: 'muted' }, time(m.sent_at_ms) + ' ' + m.role + (m.private ? ' (private note)' : '') + ': '),
        el('span', { class: 'text' }, m.text));
    }));
  }


  // --- playground ----------------------------------------------------------------------------
  // A dialogue typed one message per line (`client:` / `operator:` / `bot:` prefixes; a line
  // without one is the client's) or loaded from a stored conversation, run through the chosen
  // plugins by POST /api/v1/playground: nothing is stored, so trying costs nothing.
  var PLAY_ROLES = ['client', 'operator', 'bot'];

  function playgroundMessages(text) {
    var lines = text.split('\n').map(function (l) { return l.trim(); }).filter(Boolean);
    var now = Date.now();
    return lines.map(function (line, i) {
      var m = /^(client|operator|bot)\s*:\s*(.*)$/i.exec(line);
      return { id: String(i + 1), role: m ? m[1].toLowerCase() : 'client', text: m ? m[2] : line,
        sent_at_ms: now - (lines.length - i) * 1000 };
    });
  }

  function playgroundPage(gen) {
    load(gen, api('GET', 'api/v1/plugins'), function (list) {
      var dialogue = el('textarea', { id: 'play-dialogue', rows: 8, spellcheck: 'false',
        placeholder: 'client: Hello!\noperator: Hi, how can I help?\nclient: When will my order arrive?' });
      var source = el('select', { id: 'play-source' }, ['chat2desk', 'chatwoot', 'whazing', 'api'].map(function (s) {
        return el('option', { value: s }, s);
      }));
      var account = el('input', { id: 'play-account', placeholder: 'default' });
      var dialog = el('input', { id: 'play-dialog', placeholder: 'dialog id' });
      var loadButton = el('button', { type: 'button', id: 'play-load' }, 'Load conversation');
      var maxHints = el('input', { id: 'play-max', type: 'number', min: 1, max: 20, placeholder: 'default' });
      var loaded = list.plugins.filter(function (p) { return p.status === 'loaded'; });
      var picks = el('fieldset', { id: 'play-plugins', class: 'row' }, el('legend', null, 'Plugins'),
        loaded.map(function (p) {
          var id = 'play-plugin-' + p.name;
          return el('label', { for: id, class: 'pick' },
            el('input', { type: 'checkbox', id: id, value: p.name, checked: true }), ' ' + p.name);
        }));
      var run = el('button', { type: 'submit', id: 'play-run' }, 'Run');
      var out = el('div', { id: 'play-result' });
      var form = el('form', { class: 'form', id: 'playground' },
        el('label', { for: 'play-dialogue' }, 'Dialogue'), dialogue,
        el('label', { for: 'play-source' }, 'Source'), el('div', { class: 'row' }, source,
          el('label', { for: 'play-account' }, 'Account'), account,
          el('label', { for: 'play-dialog' }, 'Dialog'), dialog, loadButton),
        el('label', { for: 'play-max' }, 'Max hints'), maxHints,
        el('span'), picks,
        el('span'), el('div', { class: 'row' }, run,
          el('span', { class: 'muted' }, 'One message per line, client: / operator: / bot: first. Nothing is stored.')));
      loadButton.addEventListener('click', function () {
        if (!dialog.value.trim()) { dialog.focus(); return; }
        var path = 'api/v1/conversations/' + [source.value, account.value.trim() || 'default', dialog.value.trim()].map(encodeURIComponent).join('/');
        setState('loading', 'Loading the conversation…');
        load(gen, api('GET', path), function (c) {
          // The context the plugins would get (private notes already left out).
          dialogue.value = c.context.map(function (m) {
            return (PLAY_ROLES.indexOf(m.role) >= 0 ? m.role : 'bot') + ': ' + m.text.replace(/\s*\n\s*/g, ' ');
          }).join('\n');
          setState('ready', '');
        });
      });
      form.addEventListener('submit', function (ev) {
        ev.preventDefault();
        var body = { source: source.value, context: playgroundMessages(dialogue.value),
          plugins: Array.prototype.map.call(picks.querySelectorAll('input:checked'), function (c) { return c.value; }) };
        if (account.value.trim()) body.account = account.value.trim();
        if (maxHints.value) body.max_hints = Number(maxHints.value);
        run.disabled = true;
        setState('loading', 'Running the plugins…');
        load(gen, api('POST', 'api/v1/playground', body), function (r) {
          renderPlayground(out, r);
        }).then(function () { run.disabled = false; });
      });
      ui.view.appendChild(el('h2', null, 'Playground'));
      ui.view.appendChild(form);
      ui.view.appendChild(out);
      setState(loaded.length ? 'ready' : 'empty', loaded.length ? '' : 'No plugin is loaded: nothing to try.');
      dialogue.focus();
    });
  }

  function renderPlayground(out, r) {
    out.textContent = '';
    // Each plugin's own answer, side by side.
    out.appendChild(el('div', { class: 'columns', id: 'play-plugins-out' }, r.plugins.map(function (p) {
      return el('div', { class: 'panel column', 'data-plugin': p.plugin, 'data-outcome': p.outcome },
        el('h3', null, p.plugin + ' ', badge(p.outcome), el('span', { class: 'muted' }, ' ' + Math.round(p.latency_ms * 10) / 10 + ' ms, weight ' + p.weight)),
        p.error ? el('div', { class: 'error' }, p.error) : null,
        p.hints.length ? el('ol', { class: 'hints' }, p.hints.map(function (h) {
          return el('li', { 'data-hint': h.id }, el('span', { class: 'num' }, h.relevance), ' ', el('span', { class: 'text' }, h.text),
            h.url ? el('div', { class: 'muted mono' }, h.url) : null);
        })) : el('p', { class: 'muted' }, 'No hints.'));
    })));
    // The merged answer, then what the merge did with every plugin hint.
    out.appendChild(el('div', { class: 'panel' }, el('h3', null, 'Merged answer (threshold ' + r.threshold + ', duplicates at similarity ≥ ' + r.dedupe_similarity + ', at most ' + r.max_hints + ')'),
      r.merged.length ? el('ol', { class: 'hints', id: 'play-merged' }, r.merged.map(function (h) {
        return el('li', { 'data-plugin': h.plugin }, el('span', { class: 'num' }, h.relevance), ' ', el('span', { class: 'text' }, h.text),
          el('span', { class: 'muted' }, ' — ' + h.plugin + ' #' + h.plugin_hint_id + ', score ' + Math.round(h.score * 10) / 10));
      })) : el('p', { class: 'muted', id: 'play-merged' }, 'No hint made it into the answer.')));
    if (r.decisions.length) {
      var head = el('tr', null, ['Plugin', 'Hint', 'Rank', 'Score', 'Decision'].map(function (h) { return el('th', { scope: 'col' }, h); }));
      out.appendChild(el('div', { class: 'panel' }, el('h3', null, 'Merge decisions'),
        el('table', { id: 'play-decisions' }, el('thead', null, head), el('tbody', null, r.decisions.map(function (d) {
          var what = d.verdict === 'kept' ? 'kept as #' + d.merged_id : d.verdict === 'duplicate' ? 'duplicate of #' + d.merged_id : d.verdict.replace(/_/g, ' ');
          return el('tr', { 'data-verdict': d.verdict }, el('td', null, d.plugin), el('td', { class: 'mono' }, d.hint_id),
            el('td', { class: 'num' }, d.rank), el('td', { class: 'num' }, Math.round(d.score * 10) / 10), el('td', null, what));
        })))));
    }
    setState('ready', '');
  }

  // --- conversation browser ----------------------------------------------------------------
  // The newest dialogs, a page at a time: "More" follows the list's cursor, so dialogs that
  // arrive meanwhile never repeat or push rows out of the pages already shown.
  var BROWSE_PAGE = 25;

  function conversationBrowser(gen) {
    var source = el('select', { id: 'browse-source' }, ['', 'chat2desk', 'chatwoot', 'whazing', 'api'].map(function (s) {
      return el('option', { value: s }, s || 'any source');
    }));
    var account = el('input', { id: 'browse-account', placeholder: 'any account' });
    var form = el('form', { class: 'row', id: 'browse-filter' },
      el('label', { for: 'browse-source' }, 'Source'), source, el('label', { for: 'browse-account' }, 'Account'), account,
      el('button', { type: 'submit' }, 'Filter'));
    var body = el('tbody');
    var more = el('button', { type: 'button', id: 'browse-more', hidden: true }, 'More');
    var empty = el('p', { class: 'muted', id: 'browse-empty', hidden: true }, 'No conversations match.');
    var head = el('tr', null, ['Last activity', 'Source', 'Account', 'Dialog', 'Client', 'Status', 'Messages', 'Last client message'].map(function (h, i) {
      return el('th', { scope: 'col', class: i === 6 ? 'num' : null }, h);
    }));
    var cursor = null;
    var fetchPage = function (reset) {
      var q = ['limit=' + BROWSE_PAGE];
      if (source.value) q.push('source=' + encodeURIComponent(source.value));
      if (account.value.trim()) q.push('account=' + encodeURIComponent(account.value.trim()));
      if (!reset && cursor) q.push('cursor=' + encodeURIComponent(cursor));
      more.disabled = true;
      load(gen, api('GET', 'api/v1/conversations?' + q.join('&')), function (page) {
        if (reset) body.textContent = '';
        page.items.forEach(function (c) { body.appendChild(browseRow(c)); });
        cursor = page.next_cursor || null;
        more.hidden = !cursor;
        more.disabled = false;
        empty.hidden = body.childNodes.length > 0;
      });
    };
    form.addEventListener('submit', function (ev) { ev.preventDefault(); fetchPage(true); });
    more.addEventListener('click', function () { fetchPage(false); });
    fetchPage(true);
    return el('div', { class: 'panel', id: 'browse' }, el('h3', null, 'Newest conversations'), form,
      el('table', { id: 'browse-list' }, el('thead', null, head), body), empty, more);
  }

  function browseRow(c) {
    var open = function () {
      location.hash = ['#conversations', c.source, c.account, c.dialog_id].map(function (p, i) {
        return i ? encodeURIComponent(p) : p;
      }).join('/');
    };
    var link = el('a', { href: '#', 'data-action': 'open' }, c.dialog_id);
    var row = el('tr', { 'data-dialog': c.dialog_id, 'data-source': c.source, 'data-account': c.account, class: 'clickable' },
      el('td', null, time(c.updated_at_ms)), el('td', null, c.source), el('td', null, c.account),
      el('td', { class: 'mono' }, link), el('td', { class: 'mono' }, c.client_id || ''), el('td', null, badge(c.status)),
      el('td', { class: 'num' }, c.message_count), el('td', { class: 'text' }, c.last_client_text || ''));
    row.addEventListener('click', function (ev) { ev.preventDefault(); open(); });
    return row;
  }

  // --- acceptance over time ----------------------------------------------------------------
  // One line per plugin of its acceptance per bucket, drawn as inline SVG from
  // GET /api/v1/hints/stats/series; buckets where a plugin was not shown leave a gap.
  var SERIES_COLOURS = ['#2563eb', '#d97706', '#059669', '#db2777', '#7c3aed', '#0891b2', '#65a30d', '#dc2626'];

  function acceptanceOverTime(gen) {
    var slot = el('div', { id: 'series-chart' });
    var toggle = el('div', { class: 'row', id: 'series-bucket', role: 'group', 'aria-label': 'Bucket' });
    var draw = function (bucket) {
      Array.prototype.forEach.call(toggle.querySelectorAll('button'), function (b) {
        b.setAttribute('aria-pressed', String(b.getAttribute('data-bucket') === bucket));
      });
      load(gen, api('GET', 'api/v1/hints/stats/series?bucket=' + bucket), function (s) {
        slot.textContent = '';
        slot.appendChild(seriesChart(s));
      });
    };
    ['hour', 'day'].forEach(function (b) {
      toggle.appendChild(el('button', { type: 'button', 'data-bucket': b, on: { click: function () { draw(b); } } }, b === 'hour' ? 'Per hour' : 'Per day'));
    });
    draw('hour');
    return el('div', { class: 'panel' }, el('h3', null, 'Acceptance over time'), toggle, slot);
  }

  // Each plugin's call latency (median, 99th percentile, slowest) since the process started,
  // from GET /api/v1/plugins: what the hints cost beside what they earn.
  function latencyPerPlugin(gen) {
    var slot = el('div', { id: 'latency' });
    load(gen, api('GET', 'api/v1/plugins'), function (list) {
      var called = list.plugins.filter(function (p) { return p.calls; });
      if (!called.length) { slot.appendChild(el('p', { class: 'muted' }, 'No plugin called yet.')); return; }
      var head = el('tr', null, ['Plugin', 'p50', 'p99', 'Max'].map(function (h, i) {
        return el('th', { scope: 'col', class: i ? 'num' : null }, h);
      }));
      slot.appendChild(el('table', { id: 'latency-table' }, el('thead', null, head), el('tbody', null, called.map(function (p) {
        return el('tr', { 'data-plugin': p.name }, el('th', { scope: 'row' }, p.name),
          el('td', { class: 'num' }, ms(p.calls.p50_latency_us)), el('td', { class: 'num' }, ms(p.calls.p99_latency_us)),
          el('td', { class: 'num' }, ms(p.calls.max_latency_us)));
      }))));
    });
    return el('div', { class: 'panel' }, el('h3', null, 'Latency per plugin'), slot);
  }

  function seriesChart(s) {
    var byPlugin = {};
    s.points.forEach(function (p) { (byPlugin[p.plugin] = byPlugin[p.plugin] || []).push(p); });
    var plugins = Object.keys(byPlugin).sort();
    if (!plugins.length) return el('p', { class: 'muted' }, 'No answers in this span.');
    var W = 640, H = 160, left = 36, right = 10, top = 10, bottom = 22;
    var span = Math.max(s.bucket_ms, s.until_ms - s.since_ms);
    var x = function (t) { return Math.round((left + (W - left - right) * (t + s.bucket_ms / 2 - s.since_ms) / span) * 10) / 10; };
    var y = function (r) { return Math.round((top + (H - top - bottom) * (1 - r)) * 10) / 10; };
    var chart = svg('svg', { class: 'chart series', width: W, height: H, role: 'img',
      'aria-label': 'acceptance per ' + s.bucket + ' for ' + plugins.join(', ') });
    [0, 0.5, 1].forEach(function (r) {
      chart.appendChild(svg('line', { x1: left, x2: W - right, y1: y(r), y2: y(r), class: 'grid' }));
      chart.appendChild(svg('text', { x: left - 4, y: y(r) + 4, 'text-anchor': 'end' }, (r * 100) + '%'));
    });
    chart.appendChild(svg('text', { x: left, y: H - 6 }, time(s.since_ms)));
    chart.appendChild(svg('text', { x: W - right, y: H - 6, 'text-anchor': 'end' }, time(s.until_ms)));
    plugins.forEach(function (name, i) {
      var colour = SERIES_COLOURS[i % SERIES_COLOURS.length];
      var pts = byPlugin[name];
      var d = pts.map(function (p, j) {
        // A bucket missing between two points breaks the line rather than bridging it.
        var joined = j > 0 && p.bucket_start_ms - pts[j - 1].bucket_start_ms === s.bucket_ms;
        return (joined ? 'L' : 'M') + x(p.bucket_start_ms) + ' ' + y(p.acceptance_rate);
      }).join(' ');
      chart.appendChild(svg('path', { d: d, fill: 'none', stroke: colour, 'stroke-width': 2, 'data-plugin': name }));
      pts.forEach(function (p) {
        var dot = svg('circle', { cx: x(p.bucket_start_ms), cy: y(p.acceptance_rate), r: 2.5, fill: colour });
        dot.appendChild(svg('title', null, name + ' ' + time(p.bucket_start_ms) + ': ' + p.answers_chosen + ' / ' + p.answers_shown));
        chart.appendChild(dot);
      });
    });
    var legend = el('ul', { class: 'legend' }, plugins.map(function (name, i) {
      var swatch = svg('svg', { width: 12, height: 12, 'aria-hidden': 'true' }, svg('rect', { width: 12, height: 12, fill: SERIES_COLOURS[i % SERIES_COLOURS.length] }));
      return el('li', null, swatch, ' ' + name);
    }));
    return el('div', null, chart, legend);
  }

  var PAGE_RENDERERS = { plugins: pluginsPage, webhooks: webhooksPage, hints: hintsPage, conversations: conversationsPage };
  PAGE_RENDERERS.playground = playgroundPage;

  function start() {
    ui = {
      state: $('state'), stateText: $('state-text'), view: $('view'), nav: $('nav'),
      signin: $('signin'), keyInput: $('key'), signout: $('signout')
    };
    ui.signin.addEventListener('submit', signIn);
    ui.signout.addEventListener('click', signOut);
    window.addEventListener('hashchange', function () { if (key()) route(); });
    route();
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
  else start();
})();

// The hint panel. It finds its dialog (Chatwoot's dashboard-app context, or the URL's
// source/account/dialog), shows the dialog's hints, follows new ones over server-sent events
// and copies the one picked. Every request goes to hintd itself with the panel token.
'use strict';
(function () {
  var STRINGS = {
    en: {
      title: 'Hints', refresh: 'Refresh', list: 'Hints: press 1–9 to copy',
      loading: 'Loading hints…', waiting: 'Waiting for the conversation…',
      empty: 'No hints for the client’s latest message.', nomessage: 'No client message yet.',
      failed: 'The hint plugins failed ({p}). Try Refresh.',
      unreachable: 'hintd cannot be reached. Retrying…',
      refused: 'Access refused: the panel token in the app URL is missing or wrong.',
      forbidden: 'Access refused: this panel token does not open this conversation.',
      nodialog: 'No conversation: open the panel from a conversation, or give source, account and dialog in its URL.',
      copied: 'Copied. Paste it into the reply.', copyfailed: 'Could not copy: select the text and copy it.',
      edit: 'Edit', copyedited: 'Copy edited', cancel: 'Cancel', link: 'Open link', from: 'from'
    },
    pt: {
      title: 'Sugestões', refresh: 'Atualizar', list: 'Sugestões: tecle 1–9 para copiar',
      loading: 'Carregando sugestões…', waiting: 'Aguardando a conversa…',
      empty: 'Sem sugestões para a última mensagem do cliente.', nomessage: 'Ainda não há mensagem do cliente.',
      failed: 'Os plugins de sugestões falharam ({p}). Tente Atualizar.',
      unreachable: 'Não foi possível conectar ao hintd. Tentando novamente…',
      refused: 'Acesso recusado: o token do painel na URL do app está ausente ou errado.',
      forbidden: 'Acesso recusado: este token do painel não abre esta conversa.',
      nodialog: 'Nenhuma conversa: abra o painel a partir de uma conversa, ou informe source, account e dialog na URL.',
      copied: 'Copiado. Cole na resposta.', copyfailed: 'Não foi possível copiar: selecione o texto e copie.',
      edit: 'Editar', copyedited: 'Copiar editado', cancel: 'Cancelar', link: 'Abrir link', from: 'de'
    },
    ru: {
      title: 'Подсказки', refresh: 'Обновить', list: 'Подсказки: нажмите 1–9, чтобы скопировать',
      loading: 'Загрузка подсказок…', waiting: 'Ожидание диалога…',
      empty: 'Нет подсказок к последнему сообщению клиента.', nomessage: 'Клиент ещё ничего не написал.',
      failed: 'Плагины подсказок не ответили ({p}). Нажмите «Обновить».',
      unreachable: 'hintd недоступен. Повторяем попытку…',
      refused: 'Доступ запрещён: токен панели в адресе приложения не указан или неверен.',
      forbidden: 'Доступ запрещён: этот токен панели не открывает этот диалог.',
      nodialog: 'Диалог не выбран: откройте панель из диалога или укажите source, account и dialog в адресе.',
      copied: 'Скопировано. Вставьте в ответ.', copyfailed: 'Не удалось скопировать: выделите текст и скопируйте.',
      edit: 'Изменить', copyedited: 'Скопировать изменённое', cancel: 'Отмена', link: 'Открыть ссылку', from: 'от'
    }
  };

  var query = new URLSearchParams(location.search);
  var token = query.get('token') || '';
  var ctx = {
    source: query.get('source'),
    account: query.get('account'),
    dialog: query.get('dialog'),
    chatwoot_account: null
  };
  var S = STRINGS[language()];
  var view = null;
  var events = null;
  var loads = 0;
  var el = {};

  function language() {
    var wanted = [query.get('lang')].concat(navigator.languages || [navigator.language]);
    for (var i = 0; i < wanted.length; i++) {
      var code = String(wanted[i] || '').toLowerCase().split('-')[0];
      if (STRINGS[code]) return code;
    }
    return 'en';
  }

  function params(extra) {
    var p = new URLSearchParams();
    var all = Object.assign({}, ctx, extra || {});
    Object.keys(all).forEach(function (k) {
      if (all[k] !== null && all[k] !== undefined && all[k] !== '') p.set(k, String(all[k]));
    });
    return p.toString();
  }

  function auth(headers) {
    var h = Object.assign({}, headers || {});
    if (token) h.Authorization = 'Bearer ' + token;
    return h;
  }

  function setState(name, detail) {
    el.state.dataset.state = name;
    el.stateText.textContent = (S[name] || '').replace('{p}', detail || '');
    el.state.hidden = name === 'hints';
    el.hints.hidden = name !== 'hints';
    document.body.dataset.state = name;
  }

  function toast(text) {
    el.toast.textContent = text;
    el.toast.hidden = false;
    clearTimeout(toast.timer);
    toast.timer = setTimeout(function () { el.toast.hidden = true; }, 2500);
  }

  // Only http(s) links are followed: a plugin's URL never runs script in the panel.
  function safeUrl(url) {
    return /^https?:\/\//i.test(url || '') ? url : null;
  }

  function render(v) {
    view = v;
    el.dialog.textContent = '#' + v.dialog_id;
    el.hints.textContent = '';
    if (!v.hints.length) {
      if (v.failed.length) setState('failed', v.failed.join(', '));
      else setState(v.message_id ? 'empty' : 'nomessage');
      return;
    }
    v.hints.forEach(function (h, i) { el.hints.appendChild(item(h, i)); });
    setState('hints');
    // When hints became visible, for tests and benchmarks: ms since navigation, and the
    // wall clock of the latest render.
    var root = document.documentElement.dataset;
    if (!root.firstHintsMs) root.firstHintsMs = String(Math.round(performance.now()));
    root.renderedAt = String(Date.now());
    root.renders = String(Number(root.renders || 0) + 1);
  }

  function node(tag, cls, text) {
    var n = document.createElement(tag);
    if (cls) n.className = cls;
    if (text !== undefined) n.textContent = text;
    return n;
  }

  function item(h, i) {
    var li = node('li', 'hint');
    li.dataset.id = String(h.id);
    var pickButton = node('button', 'pick');
    pickButton.type = 'button';
    if (i < 9) {
      pickButton.appendChild(node('kbd', null, String(i + 1)));
      pickButton.setAttribute('aria-keyshortcuts', String(i + 1));
    }
    pickButton.appendChild(node('span', 'text', h.text));
    pickButton.addEventListener('click', function () { pick(h, li, h.text, null); });
    li.appendChild(pickButton);
    var meta = node('div', 'meta');
    meta.appendChild(node('span', 'plugin', S.from + ' ' + h.plugin));
    meta.appendChild(node('span', 'relevance', h.relevance + '%'));
    [h.url, h.link].forEach(function (u, k) {
      if (!safeUrl(u) || (k === 1 && u === h.url)) return;
      var a = node('a', 'link', S.link);
      a.href = u;
      a.target = '_blank';
      a.rel = 'noopener noreferrer';
      meta.appendChild(a);
    });
    var editButton = node('button', 'edit', S.edit);
    editButton.type = 'button';
    editButton.addEventListener('click', function () { edit(h, li); });
    meta.appendChild(editButton);
    li.appendChild(meta);
    return li;
  }

  function edit(h, li) {
    if (li.querySelector('textarea')) return;
    var box = node('div', 'editor');
    var area = node('textarea');
    area.value = h.text;
    area.rows = 4;
    var copyButton = node('button', 'copy-edited', S.copyedited);
    copyButton.type = 'button';
    var cancel = node('button', 'cancel', S.cancel);
    cancel.type = 'button';
    copyButton.addEventListener('click', function () {
      var text = area.value;
      pick(h, li, text, text !== h.text ? text : null).then(function () { box.remove(); });
    });
    cancel.addEventListener('click', function () { box.remove(); });
    area.addEventListener('keydown', function (e) {
      if (e.key === 'Escape') box.remove();
    });
    box.appendChild(area);
    box.appendChild(copyButton);
    box.appendChild(cancel);
    li.appendChild(box);
    area.focus();
  }

  function copy(text) {
    if (navigator.clipboard && window.isSecureContext) {
      return navigator.clipboard.writeText(text).then(function () { return true; }, function () {
        return copyBySelection(text);
      });
    }
    return Promise.resolve(copyBySelection(text));
  }

  // Chatwoot's frame does not delegate the clipboard permission; a selection copy works
  // there during the click.
  function copyBySelection(text) {
    var area = node('textarea', 'offscreen');
    area.value = text;
    area.setAttribute('readonly', '');
    document.body.appendChild(area);
    area.select();
    var ok = false;
    try { ok = document.execCommand('copy'); } catch (e) { ok = false; }
    area.remove();
    return ok;
  }

  function pick(h, li, text, edited) {
    var chosen = view;
    return copy(text).then(function (ok) {
      toast(ok ? S.copied : S.copyfailed);
      li.classList.add('chosen');
      if (!chosen || !chosen.message_id) return;
      var body = {
        source: ctx.source, account: ctx.account, dialog: ctx.dialog,
        chatwoot_account: ctx.chatwoot_account, message_id: chosen.message_id,
        hint_id: h.id, edited_text: edited
      };
      return fetch('panel/api/choice', {
        method: 'POST',
        headers: auth({ 'Content-Type': 'application/json' }),
        body: JSON.stringify(body)
      }).then(function (r) {
        li.dataset.recorded = r.ok ? 'yes' : 'no';
        return r.ok && r.json().then(function (outcome) {
          // Which plugins were told, with how their `feedback` call ended.
          li.dataset.feedback = JSON.stringify(outcome.feedback || []);
        });
      }).catch(function () {
        li.dataset.recorded = li.dataset.recorded || 'no';
      });
    });
  }

  function load(fresh) {
    var mine = ++loads;
    if (!view) setState('loading');
    return fetch('panel/api/hints?' + params(fresh ? { fresh: 'true' } : null), {
      headers: auth(), cache: 'no-store'
    }).then(function (r) {
      if (mine !== loads) return;
      if (r.status === 401) { close(); return setState('refused'); }
      if (r.status === 403) { close(); return setState('forbidden'); }
      if (r.status === 400) { close(); return setState('nodialog'); }
      if (!r.ok) return unreachable();
      return r.json().then(function (v) {
        if (mine !== loads) return;
        render(v);
        if (!events) listen();
      });
    }, function () {
      if (mine === loads) unreachable();
    });
  }

  // While the event stream is open the browser retries by itself; without one, ask again.
  function unreachable() {
    setState('unreachable');
    if (!events) {
      clearTimeout(unreachable.timer);
      unreachable.timer = setTimeout(function () { load(false); }, 3000);
    }
  }

  function close() {
    if (events) events.close();
    events = null;
  }

  // The stream says `ready` on every (re)connection: hints that arrived while it was down
  // are loaded then; the browser reconnects by itself after an outage.
  function listen() {
    var source = new EventSource('panel/api/events?' + params({ token: token }));
    events = source;
    source.addEventListener('ready', function () { load(false); });
    source.addEventListener('hints', function (e) {
      try { render(JSON.parse(e.data)); } catch (err) { load(false); }
    });
    source.addEventListener('stale', function () { load(false); });
    source.addEventListener('error', function () {
      if (events !== source) return;
      if (source.readyState === EventSource.CLOSED) {
        // Refused (e.g. too many panels on the dialog): open a new stream later, not now.
        events = null;
        clearTimeout(listen.timer);
        listen.timer = setTimeout(function () { load(false); }, 5000);
        return;
      }
      // Tell "hintd stopped" from a passing hiccup by asking once.
      load(false);
    });
  }

  function start() {
    close();
    view = null;
    load(false);
  }

  // Chatwoot posts {"event":"appContext","data":{"conversation":{"id": <display id>,
  // "account_id": <number>, ...}, "contact": ..., "currentAgent": ...}} as a JSON string.
  function onParentMessage(e) {
    if (e.source !== window.parent) return;
    var data = e.data;
    if (typeof data === 'string') {
      try { data = JSON.parse(data); } catch (err) { return; }
    }
    if (!data || data.event !== 'appContext' || !data.data || !data.data.conversation) return;
    var conversation = data.data.conversation;
    if (conversation.id === undefined || conversation.id === null) return;
    var dialog = String(conversation.id);
    var account = typeof conversation.account_id === 'number' ? conversation.account_id : null;
    if (dialog === ctx.dialog && account === ctx.chatwoot_account && view) return;
    ctx.source = ctx.source || 'chatwoot';
    ctx.dialog = dialog;
    ctx.chatwoot_account = account;
    start();
  }

  function askParent() {
    window.parent.postMessage('chatwoot-dashboard-app:fetch-info', '*');
  }

  function keys(e) {
    var tag = e.target && e.target.tagName;
    if (tag === 'TEXTAREA' || tag === 'INPUT' || e.altKey || e.ctrlKey || e.metaKey) return;
    if (!/^[1-9]$/.test(e.key) || !view) return;
    var li = el.hints.children[Number(e.key) - 1];
    var h = li && view.hints[Number(e.key) - 1];
    if (!h) return;
    e.preventDefault();
    li.querySelector('.pick').focus();
    pick(h, li, h.text, null);
  }

  function init() {
    ['state', 'hints', 'toast', 'dialog', 'refresh'].forEach(function (id) {
      el[id] = document.getElementById(id);
    });
    el.stateText = document.getElementById('state-text');
    document.documentElement.lang = language();
    document.querySelectorAll('[data-t]').forEach(function (n) {
      n.textContent = S[n.dataset.t] || n.textContent;
    });
    el.refresh.addEventListener('click', function () { if (ctx.dialog) load(true); });
    document.addEventListener('keydown', keys);
    if (!token) return setState('refused');
    if (ctx.dialog) return start();
    if (window.parent === window) return setState('nodialog');
    // Inside Chatwoot: the context arrives by message; asking again covers a frame that
    // loaded before its parent listened, and a tab shown again after a conversation change.
    setState('waiting');
    window.addEventListener('message', onParentMessage);
    askParent();
    document.addEventListener('visibilitychange', function () {
      if (!document.hidden) askParent();
    });
    window.addEventListener('focus', askParent);
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', init);
  else init();
})();

// Shared by the staff and parent pages: calls to /api/v1 with the session's
// CSRF token, and small DOM helpers. Text goes in with textContent only.
'use strict';

window.seatlinkConsole = (() => {
  let csrf = '';
  const status = () => document.getElementById('status');

  // The page's words, where the page has its catalogue (i18n.js).
  const I = () => window.seatlinkI18n;
  // tk is the text of a key made of a prefix and a name.
  const tk = (prefix, name, vars) => I().t(prefix + name, vars);

  function say(text, isError) {
    const el = status();
    if (!el) return;
    el.textContent = text || '';
    el.classList.toggle('error', !!isError);
  }

  // result shows what an action did where it was done: in el (a status
  // element beside the form or button, role=status), which takes the
  // focus so that a keyboard or screen reader user is there too. nodes
  // (optional) follow the text (a link, a button to act on the result).
  function result(el, text, isError, nodes) {
    if (typeof el === 'string') el = document.getElementById(el);
    if (!el) { say(text, isError); return; }
    el.textContent = text || '';
    for (const n of nodes || []) el.append(' ', n);
    el.classList.toggle('error', !!isError);
    el.hidden = !text;
    if (!el.hasAttribute('tabindex')) el.setAttribute('tabindex', '-1');
    if (text) el.focus({ preventScroll: false });
  }

  // problem is an API error in words: the fields' own messages when the
  // server names fields, else its message (both in the page's language).
  function problem(e) {
    const fields = e && e.data && e.data.error && e.data.error.fields;
    return fields && fields.length ? fields.map((f) => f.message).join('; ') : (e && e.message) || '';
  }

  async function api(method, path, body, contentType) {
    const headers = {};
    if (csrf) headers['X-CSRF-Token'] = csrf;
    let payload;
    if (body !== undefined) {
      headers['Content-Type'] = contentType || 'application/json';
      payload = contentType ? body : JSON.stringify(body);
    }
    const r = await fetch(path, { method, headers, body: payload, credentials: 'same-origin' });
    let data = null;
    try { data = await r.json(); } catch (e) { data = null; }
    if (!r.ok) {
      const failed = I() ? I().t('console.request_failed', { status: r.status }) : 'request failed: ' + r.status;
      const err = new Error((data && data.error && data.error.message) || failed);
      err.status = r.status;
      err.data = data;
      throw err;
    }
    if (data && data.csrf_token) csrf = data.csrf_token;
    return data;
  }

  function el(tag, text, attrs) {
    const e = document.createElement(tag);
    if (text !== undefined && text !== null) e.textContent = String(text);
    for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
    return e;
  }

  function row(cells) {
    const tr = document.createElement('tr');
    for (const c of cells) {
      const td = document.createElement('td');
      if (c instanceof Node) td.appendChild(c); else td.textContent = c === undefined ? '' : String(c);
      tr.appendChild(td);
    }
    return tr;
  }

  function formData(form) {
    return Object.fromEntries(new FormData(form).entries());
  }

  async function session() {
    try { return await api('GET', '/api/v1/session'); } catch (e) { return null; }
  }

  async function signOut() {
    try { await api('DELETE', '/api/v1/session'); } catch (e) { /* already out */ }
    csrf = '';
    location.reload();
  }

  // staffPage wires a staff page's sign-in form (#signin-form in
  // #signin), #who and #signout, and calls onStaff(me) once a member of
  // staff is signed in (now, or after signing in on the form).
  function staffPage(onStaff) {
    const $ = (id) => document.getElementById(id);
    async function start() {
      const me = await session();
      if (!me || me.kind !== 'staff') {
        $('signin').hidden = false;
        return;
      }
      $('signin').hidden = true;
      const role = I() && I().has('common.role.' + me.role) ? tk('common.role.', me.role) : me.role;
      $('who').textContent = me.name + ' (' + role + ')';
      $('signout').hidden = false;
      document.body.dataset.ready = '';
      await onStaff(me);
      // Everything this page loads is in place: nothing moves under a
      // pointer from here (tests wait for this before they click).
      document.body.dataset.ready = '1';
    }
    $('signin-form').addEventListener('submit', async (ev) => {
      ev.preventDefault();
      const d = formData(ev.target);
      try {
        await api('POST', '/api/v1/session', { email: d.email, password: d.password });
        await start();
      } catch (e) { say(e.message, true); }
    });
    $('signout').addEventListener('click', signOut);
    start();
  }

  return { api, el, row, formData, say, result, problem, session, signOut, staffPage };
})();

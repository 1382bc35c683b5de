// Shared by the staff and parent pages: calls to /api/v1 with the session's
// CSRF token, and small DOM helpers. Text goes in with textContent only.
'use strict';

window.seatlinkConsole = (() => {
  let csrf = '';
  const status = () => document.getElementById('status');

  function say(text, isError) {
    const el = status();
    if (!el) return;
    el.textContent = text || '';
    el.classList.toggle('error', !!isError);
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
      const err = new Error((data && data.error && data.error.message) || ('request failed: ' + r.status));
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
      $('who').textContent = me.name + ' (' + me.role + ')';
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

  return { api, el, row, formData, say, session, signOut, staffPage };
})();

// Parents: accept an invitation (token in the URL fragment), sign in, and
// see their own children. The server limits every call to the parent's
// own children.
'use strict';

(() => {
  const C = window.seatlinkConsole;
  const $ = (id) => document.getElementById(id);
  const invite = location.pathname === '/parent/invite' ? location.hash.replace(/^#/, '') : '';

  $('accept-form').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    try {
      await C.api('POST', '/api/v1/parent/invitation', { token: invite, password: C.formData(ev.target).password });
      history.replaceState(null, '', '/parent');
      $('accept').hidden = true;
      await start();
    } catch (e) {
      C.say(e.status === 410 ? 'This invitation has expired or was already used. Ask the school for a new one.' : e.message, true);
    }
  });
  $('signin-form').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    try {
      await C.api('POST', '/api/v1/parent/session', C.formData(ev.target));
      await start();
    } catch (e) { C.say(e.message, true); }
  });
  $('signout').addEventListener('click', C.signOut);

  async function start() {
    const me = await C.session();
    if (!me || me.kind !== 'parent') {
      if (invite) $('accept').hidden = false; else $('signin').hidden = false;
      return;
    }
    $('signin').hidden = true;
    $('who').textContent = me.name;
    $('signout').hidden = false;
    const kids = await C.api('GET', '/api/v1/pupils');
    const list = $('child-list');
    list.textContent = '';
    for (const k of kids) list.appendChild(C.el('li', k.display_name + ' (year ' + k.year_group + ')'));
    $('children').hidden = false;
  }

  start();
})();

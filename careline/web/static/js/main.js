// careline's web client: boot, routes, and the layout (conversation list beside the open
// thread on a desktop; one or the other on a phone).

import { h, focus, announce } from './dom.js';
import {
  state, on, loadSession, startLive, signOut, emit, visibleConversations,
} from './store.js';
import { signInView } from './views/signin.js';
import { sidebar } from './views/inbox.js';
import { threadView } from './views/thread.js';
import { welcomeView } from './views/welcome.js';
import { adminView, ADMIN_SECTIONS } from './views/admin.js';
import { connectionBanner } from './views/banner.js';
import { offlineBanner } from './views/offline.js';
import * as offline from './offline.js';
import { invitePage, invitationsNotice } from './views/invitations.js';
import { startVisibility } from './visibility.js';

const app = document.getElementById('app');
let layout = null;
let page = null;
let live = false;
let sessionNotice = null;
let inviteToken = '';

export function navigate(path, { replace = false } = {}) {
  if (path !== location.pathname + location.search) {
    history[replace ? 'replaceState' : 'pushState']({}, '', path);
  }
  route();
}

function safeNext(raw) {
  // Only paths of this site: never an absolute or protocol-relative URL.
  return raw && raw.startsWith('/') && !raw.startsWith('//') && !raw.startsWith('/signin') ? raw : '/';
}

function disposeAll() {
  if (page && page.dispose) page.dispose();
  page = null;
  if (layout) {
    layout.sidebar.dispose();
    layout.banner.dispose();
    layout.offline.dispose();
    if (layout.view && layout.view.dispose) layout.view.dispose();
  }
  layout = null;
}

function mount(node) {
  disposeAll();
  app.replaceChildren(node);
  page = node;
}

function showSignIn() {
  const params = new URLSearchParams(location.search);
  const notice = params.get('ended')
    ? 'Your session ended. Sign in again to carry on: your drafts and unsent messages are kept on this device.'
    : sessionNotice;
  sessionNotice = null;
  document.title = 'Sign in · careline';
  mount(signInView({
    notice,
    onSignedIn: async () => {
      await enter();
      navigate(landing(safeNext(params.get('next'))), { replace: true });
    },
  }));
}

// Admins land where their work is: the admin home, unless they came for a page or have
// conversations waiting in the inbox.
function landing(next) {
  return next === '/' && state.me.role === 'admin' && !visibleConversations().length ? '/admin' : next;
}

async function enter() {
  if (!live) {
    live = true;
    await offline.start();
    startVisibility();
    await startLive();
  }
}

async function doSignOut() {
  // The views first: closing a thread saves its draft, which signing out then removes.
  disposeAll();
  await offline.forget();
  await signOut();
  live = false;
  sessionNotice = 'You have signed out.';
  navigate('/signin', { replace: true });
}

function ensureLayout() {
  if (layout) return layout;
  if (page && page.dispose) page.dispose();
  page = null;
  const main = h('main', { id: 'main', class: 'main', tabindex: '-1' });
  const side = sidebar({ navigate, signOut: doSignOut });
  const banner = connectionBanner();
  const kept = offlineBanner();
  const root = h('div', { class: 'layout' },
    h('a', { href: '#main', class: 'skip-link', onclick: (ev) => {
      ev.preventDefault();
      const composer = document.getElementById('composer-input');
      focus(composer || main);
    } }, 'Skip to conversation'),
    banner, kept, invitationsNotice(), side, main);
  app.replaceChildren(root);
  layout = { root, main, sidebar: side, banner, offline: kept, view: null, viewId: undefined };
  return layout;
}

function showConversation(id) {
  const l = ensureLayout();
  l.root.dataset.view = id ? 'thread' : 'list';
  if (l.viewId === id && l.view) return;
  const previous = l.viewId;
  if (l.view && l.view.dispose) l.view.dispose();
  l.viewId = id;
  l.view = id ? threadView(id, { navigate }) : welcomeView({ navigate });
  l.main.replaceChildren(l.view);
  if (!id) {
    // Back on the list (a phone): focus the conversation we came from.
    if (previous) {
      requestAnimationFrame(() => focus(l.root.querySelector(`a.conv[data-id="${previous}"]`)));
    }
  }
}

function showInvite() {
  // The token rides in the fragment (never sent to a server); take it out of the address
  // bar and the history at once.
  const token = location.hash.slice(1);
  if (token) {
    inviteToken = token;
    history.replaceState({}, '', '/invite');
  }
  document.title = 'Invitation · careline';
  mount(invitePage(inviteToken));
}

function route() {
  const path = location.pathname;
  if (path === '/invite') {
    showInvite();
    return;
  }
  if (path === '/signin') {
    if (state.me && !state.ended) {
      navigate('/', { replace: true });
      return;
    }
    showSignIn();
    return;
  }
  if (!state.me || state.ended) {
    navigate(`/signin?next=${encodeURIComponent(path)}`, { replace: true });
    return;
  }
  if (path.startsWith('/admin')) {
    if (state.me.role !== 'admin') {
      navigate('/', { replace: true });
      return;
    }
    document.title = 'Administration · careline';
    mount(adminView(ADMIN_SECTIONS[path] || 'home'));
    return;
  }
  const match = path.match(/^\/c\/([0-9a-f-]{36})$/);
  if (match && state.listLoaded && !state.conversations.has(match[1])) {
    announce('That conversation is not available.', { tone: 'error' });
    navigate('/', { replace: true });
    return;
  }
  showConversation(match ? match[1] : null);
  emit('route');
}

function registerServiceWorker() {
  if ('serviceWorker' in navigator) {
    navigator.serviceWorker.register('/sw.js', { scope: '/' }).catch(() => {
      // Without a worker careline still runs; it just cannot open while offline.
    });
  }
}

async function boot() {
  registerServiceWorker();
  window.addEventListener('popstate', route);
  document.addEventListener('click', (ev) => {
    const a = ev.target.closest && ev.target.closest('a[data-link]');
    if (!a || ev.defaultPrevented || ev.button !== 0 || ev.metaKey || ev.ctrlKey || ev.shiftKey || ev.altKey) return;
    ev.preventDefault();
    navigate(a.getAttribute('href'));
  });
  on('session-ended', async () => {
    const next = location.pathname;
    live = false;
    disposeAll();
    // What this device kept to read offline goes before sign-in shows.
    await offline.forget();
    navigate(`/signin?ended=1&next=${encodeURIComponent(next)}`, { replace: true });
  });
  on('conversation-gone', () => {
    announce('You are no longer in that conversation.');
    navigate('/', { replace: true });
  });
  let me = null;
  try {
    me = await loadSession();
  } catch (err) {
    if (err.status === 0 && await offline.bootOffline()) {
      // Unreachable, not signed out: read what this device kept until careline answers.
      route();
      offline.whenReachable(async () => {
        await enter();
        route();
      });
      return;
    }
    app.replaceChildren(
      h('main', { class: 'fatal', id: 'main' },
        h('h1', {}, 'careline cannot be reached'),
        h('p', {}, err.status === 0 ? 'Check your connection; careline will try again when you reload.' : err.message),
        h('button', { type: 'button', class: 'btn btn-primary', onclick: () => location.reload() }, 'Try again')),
    );
    window.addEventListener('online', () => location.reload(), { once: true });
    return;
  }
  if (me) await enter();
  else await offline.forget(); // the session ended while the app was closed
  route();
}

boot();

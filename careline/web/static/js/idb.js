// IndexedDB as promises, for what the device keeps to read offline (js/offline.js): one
// database, three stores, every record keyed by the scope (account and organisation) it
// belongs to. No health data goes anywhere else (never the service worker's caches).

export const NAME = 'careline-offline';
const VERSION = 1;
export const STORES = ['meta', 'conversations', 'threads'];

let opening = null;

/** The database, opened once (null where IndexedDB is unavailable, e.g. disabled). */
export function open() {
  if (opening) return opening;
  opening = new Promise((resolve) => {
    let req;
    try {
      req = indexedDB.open(NAME, VERSION);
    } catch {
      resolve(null);
      return;
    }
    req.onupgradeneeded = () => {
      const db = req.result;
      // meta: one record, key "device": whose copy this is and when it was last current.
      if (!db.objectStoreNames.contains('meta')) db.createObjectStore('meta', { keyPath: 'key' });
      for (const name of ['conversations', 'threads']) {
        if (!db.objectStoreNames.contains(name)) db.createObjectStore(name, { keyPath: ['scope', 'id'] });
      }
    };
    req.onsuccess = () => {
      const db = req.result;
      // Another tab upgrading or deleting the database: let it, and open afresh next time.
      db.onversionchange = () => {
        db.close();
        opening = null;
      };
      resolve(db);
    };
    req.onerror = () => {
      opening = null;
      resolve(null);
    };
  });
  return opening;
}

/** The key range of every record of `scope` (keys are [scope, id]). */
export function range(scope) {
  return IDBKeyRange.bound([scope], [scope, []]);
}

/** Run `body(tx)` in one transaction over every store; resolves once it is committed. The
 * transaction is created synchronously with this call (after `db` is open), so two calls
 * commit in the order they were made. */
export function transact(db, mode, body) {
  return new Promise((resolve, reject) => {
    const tx = db.transaction(STORES, mode);
    let value;
    tx.oncomplete = () => resolve(value);
    tx.onerror = () => reject(tx.error);
    tx.onabort = () => reject(tx.error);
    try {
      value = body(tx);
    } catch (err) {
      tx.abort();
      reject(err);
    }
  });
}

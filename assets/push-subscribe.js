// Subscribe this browser to Web Push with the server's VAPID public key (base64url). Resolves to the
// subscription's JSON ({endpoint, keys: {p256dh, auth}}), or to a sentence saying why not.
window.voltdeskSubscribe = async function (vapidKey) {
  if (!("serviceWorker" in navigator) || !("PushManager" in window)) {
    return "This browser cannot receive Web Push.";
  }
  try {
    if ((await Notification.requestPermission()) !== "granted") {
      return "Notifications are blocked for this site in the browser.";
    }
    const reg = await navigator.serviceWorker.register("/push-sw.js");
    await navigator.serviceWorker.ready;
    const pad = "=".repeat((4 - (vapidKey.length % 4)) % 4);
    const raw = atob((vapidKey + pad).replace(/-/g, "+").replace(/_/g, "/"));
    const key = Uint8Array.from(raw, (c) => c.charCodeAt(0));
    const sub = (await reg.pushManager.getSubscription())
      || (await reg.pushManager.subscribe({userVisibleOnly: true, applicationServerKey: key}));
    return sub.toJSON();
  } catch (e) {
    return "The browser refused: " + (e && e.message ? e.message : e);
  }
};

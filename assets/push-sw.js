// Voltdesk's service worker for Web Push: shows each pushed alert as a system notification and opens the
// Notifications page when it is clicked. The payload is the JSON the server encrypts (core/push.py).
self.addEventListener("push", (event) => {
  let data = {};
  try { data = event.data ? event.data.json() : {}; } catch (e) { data = {body: event.data ? event.data.text() : ""}; }
  event.waitUntil(self.registration.showNotification(data.title || "Voltdesk", {
    body: data.body || "", tag: data.notification_id ? "n" + data.notification_id : undefined,
    data: {url: "/notifications"},
  }));
});
self.addEventListener("notificationclick", (event) => {
  event.notification.close();
  event.waitUntil(self.clients.openWindow((event.notification.data && event.notification.data.url) || "/"));
});

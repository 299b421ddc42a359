// The demo shop: a catalog, a cart kept in localStorage, and the journeyd calls a real shop
// would make. The tracker itself (/t.js) records page views and leaves on its own.
var PRODUCTS = [
  { id: 'kettle', name: 'Copper kettle', price: 49, art: '🫖' },
  { id: 'mug', name: 'Stoneware mug', price: 14, art: '☕' },
  { id: 'grinder', name: 'Hand grinder', price: 89, art: '⚙️' },
  { id: 'beans', name: 'Ethiopian beans, 1 kg', price: 27, art: '🫘' },
];
function product(id) {
  return PRODUCTS.find(function (p) { return p.id === id; });
}
function cart() {
  try { return JSON.parse(localStorage.getItem('demo_cart')) || []; } catch (e) { return []; }
}
function saveCart(items) {
  localStorage.setItem('demo_cart', JSON.stringify(items));
  showCount();
}
function cartTotal(items) {
  return items.reduce(function (sum, i) { return sum + product(i.id).price * i.qty; }, 0);
}
function addToCart(id) {
  var items = cart();
  var line = items.find(function (i) { return i.id === id; });
  if (line) line.qty++; else items.push({ id: id, qty: 1 });
  saveCart(items);
  journeyd('event', 'add_to_cart', { product: id, price: product(id).price });
}
function showCount() {
  var n = cart().reduce(function (s, i) { return s + i.qty; }, 0);
  var el = document.getElementById('count');
  if (el) el.textContent = n ? '(' + n + ')' : '';
}
document.addEventListener('DOMContentLoaded', showCount);

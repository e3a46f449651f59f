// The ReDoc page (/api/redoc/) loads nothing from other hosts. ReDoc itself comes from our
// static files (drf-spectacular-sidecar), but it draws its "API docs by Redocly" footer with
// a logo from cdn.redoc.ly. Loaded before ReDoc, this gives any image of another host an
// empty source instead: no request leaves the site, the image fails at once and ReDoc leaves
// the logo out (the footer's text stays).
(function () {
  "use strict";

  function otherHost(value) {
    try {
      return new URL(String(value), document.baseURI).origin !== window.location.origin;
    } catch (error) {
      return false;
    }
  }

  var setAttribute = Element.prototype.setAttribute;
  Element.prototype.setAttribute = function (name, value) {
    if (
      this instanceof HTMLImageElement &&
      /^(src|srcset)$/i.test(String(name)) &&
      otherHost(String(value).trim().split(/\s+/)[0])
    ) {
      value = "";
    }
    return setAttribute.call(this, name, value);
  };

  var src = Object.getOwnPropertyDescriptor(HTMLImageElement.prototype, "src");
  Object.defineProperty(HTMLImageElement.prototype, "src", {
    configurable: true,
    enumerable: src.enumerable,
    get: src.get,
    set: function (value) {
      src.set.call(this, otherHost(value) ? "" : value);
    },
  });
})();

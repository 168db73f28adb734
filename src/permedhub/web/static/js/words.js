// "1 participation", "3 participations": a count with its word in the right number. The one
// place the portal's scripts pluralise (templates use the Jinja filter `plural`).
(function () {
  "use strict";
  window.permedhubAmount = function (count, one, other) {
    return count + " " + (count === 1 ? one : (other || one + "s"));
  };
})();

// fairnotes: a click on a figure opens it at its full size (the figures scale to the column, which
// on a phone makes their text small). Served from the book itself: nothing is fetched online.
document.addEventListener("DOMContentLoaded", function () {
  document.querySelectorAll("div.cell_output img, figure img").forEach(function (img) {
    if (img.closest("a")) return;
    var link = document.createElement("a");
    link.href = img.getAttribute("src");
    link.className = "fn-full-size";
    link.title = "Open the figure at its full size";
    img.parentNode.insertBefore(link, img);
    link.appendChild(img);
  });
});

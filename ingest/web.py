"""Articles from the web: a page URL, a sitemap (or sitemap index), an RSS/Atom feed, or a
WordPress site's REST API (``/wp-json/wp/v2/posts``, paginated).

A listing (sitemap, feed, API) is the blog's own list of its articles: an article gone from
it leaves the index. Where the listing says when a page last changed (``lastmod``,
``updated``, ``modified``) and the index holds that version, the page is not fetched again.
Pages on other sites (scheme, host, port) than the blog's are skipped unless
``follow_offsite`` is set. A run reads each sitemap once (one visited set for the run, so an
index listing itself, or variants of itself, costs one fetch each) and stops at the
fetcher's page budget: the pages left unfetched are one skip line, and the index keeps
what it held of them.
"""

from __future__ import annotations

import html
import json
import re
import time
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import feedparser
from lxml import etree
from tqdm import tqdm

from ingest.clean import CleanPage, article_words, clean_html, clean_scraped_text
from ingest.errors import SourceError
from ingest.fetch import VALIDATOR_KINDS, Fetched, Fetcher, clean_url, site_origin, url_key
from ingest.load import Loaded, slug_from_url, slugify
from ingest.schema import Article

MAX_SITEMAP_DEPTH = 3
MAX_API_PAGES = 200
FEED_MIN_WORDS = 80  # a feed entry shorter than this is a summary: fetch the page instead


@dataclass(frozen=True)
class HeldPage:
    """What the index holds of a page, by ``url_key`` of its source URL."""

    slug: str
    modified: str


def _with_query(url: str, **params: str | int) -> str:
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query))
    query.update({k: str(v) for k, v in params.items()})
    return urlunsplit((*parts[:3], urlencode(query), parts.fragment))


def _document(fragment: str) -> str:
    """A feed's or API's HTML fragment as a page trafilatura can read."""
    return f"<html><body><article>{fragment}</article></body></html>"


def _kind(fetched: Fetched) -> str:
    head = fetched.body[:4096].decode("utf-8", errors="replace").lower()
    if "<urlset" in head or "<sitemapindex" in head:
        return "sitemap"
    if "<rss" in head or "<feed" in head or "<rdf:rdf" in head:
        return "feed"
    if "html" in fetched.content_type or "<html" in head or "<!doctype html" in head:
        return "page"
    if "xml" in fetched.content_type or urlsplit(fetched.url).path.endswith(".xml"):
        return "sitemap"  # XML that is neither: reported as a malformed sitemap
    if "json" in fetched.content_type:
        return "json"
    return "text"


class WebLoader:
    """Loads one URL source per ``load`` call; ``held`` is what the index holds, by page."""

    def __init__(
        self, fetcher: Fetcher, held: dict[str, HeldPage] | None = None, progress: bool = False
    ) -> None:
        self.fetcher = fetcher
        self.held = held or {}
        self.progress = progress
        self._sitemaps_read: set[str] = set()  # url_key of every sitemap read this run
        self._unfetched = 0  # listed URLs left out of this source by the page budget

    def load(self, url: str) -> Loaded:
        loaded = Loaded()
        origin = url_key(url)
        self._unfetched = 0
        try:
            parts = urlsplit(url)
            if "/wp-json/" in parts.path or "rest_route=" in parts.query:
                complete = self._wordpress(url, origin, loaded)
            else:
                fetched = self.fetcher.fetch(url, validator=self._validator(url))
                if fetched.not_modified:  # a page held from an earlier run, unchanged
                    loaded.kept.add(self.held[url_key(url)].slug)
                    return loaded
                kind = _kind(fetched)
                if kind == "sitemap":
                    self._sitemaps_read.add(url_key(fetched.url))
                    self._sitemaps_read.add(origin)
                    complete = self._sitemap(url, fetched, origin, loaded, site_origin(url), 0)
                elif kind == "feed":
                    complete = self._feed(url, fetched, origin, loaded)
                elif kind == "json":
                    raise SourceError(url, "JSON that is not a WordPress posts API (/wp-json/...)")
                else:
                    loaded.articles.append(self._page(url, fetched, origin, "", kind == "text"))
                    complete = False  # a single page: nothing to remove if it goes
        except SourceError as error:
            loaded.skip(error, url_key(error.source))
            return loaded
        if self._unfetched:
            loaded.skipped.append(
                SourceError(
                    url,
                    f"{self._unfetched} listed URLs not fetched: {self.fetcher.budget_line()}",
                )
            )
            complete = False  # their articles stay as the index holds them
        if complete:
            loaded.origins.add(origin)
        return loaded

    # --- one page ---------------------------------------------------------------------

    def _page(
        self, listed: str, fetched: Fetched, origin: str, modified: str, plain_text: bool = False
    ) -> Article:
        page = (
            clean_scraped_text(fetched.text)
            if plain_text
            else clean_html(fetched.text, fetched.url)
        )
        if not page.text:
            raise SourceError(listed, "no article text on the page")
        return self._article(page, listed, fetched.url, origin, modified or fetched.validator)

    def _article(
        self,
        page: CleanPage,
        listed: str,
        fetched_url: str,
        origin: str,
        modified: str,
        slug: str = "",
    ) -> Article:
        url = clean_url(page.url or fetched_url)
        return Article(
            slug=slug or slug_from_url(url),
            title=page.title or slug_from_url(url),
            text=page.text,
            source=url_key(listed),
            url=url,
            date=page.date[:10],
            author=page.author,
            tags=page.tags,
            origin=origin,
            modified=modified,
        )

    def _unchanged(self, url: str, modified: str, loaded: Loaded) -> bool:
        held = self.held.get(url_key(url))
        if modified and held is not None and held.modified == modified:
            loaded.kept.add(held.slug)
            return True
        return False

    def _validator(self, url: str) -> str:
        """The ETag or Last-Modified the index holds for the page at ``url``, if any."""
        held = self.held.get(url_key(url))
        return held.modified if held and held.modified.startswith(VALIDATOR_KINDS) else ""

    def _listed_page(self, url: str, modified: str, origin: str, blog: str, loaded: Loaded) -> None:
        """A page a sitemap or feed lists: skipped when its date says unchanged; without a
        date, asked with the ETag or Last-Modified of the held version (HTTP 304: kept)."""
        if self._unchanged(url, modified, loaded):
            return
        if self.fetcher.budget_spent:
            self._unfetched += 1
            loaded.failed.add(url_key(url))
            return
        try:
            self.fetcher.check_host(url, blog, url)
            validator = "" if modified else self._validator(url)
            fetched = self.fetcher.fetch(url, blog, validator=validator)
            if fetched.not_modified:
                loaded.kept.add(self.held[url_key(url)].slug)
                return
            loaded.articles.append(self._page(url, fetched, origin, modified))
        except SourceError as error:
            loaded.skip(error, url_key(url))

    # --- sitemaps ---------------------------------------------------------------------

    def _sitemap(
        self, url: str, fetched: Fetched, origin: str, loaded: Loaded, blog: str, depth: int
    ) -> bool:
        try:
            parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)
            root = etree.fromstring(fetched.body, parser=parser)
        except etree.XMLSyntaxError as exc:
            raise SourceError(url, f"malformed sitemap ({exc.msg})") from exc
        tag = etree.QName(root).localname
        if tag not in ("urlset", "sitemapindex"):
            raise SourceError(url, f"not a sitemap (the XML is a <{tag}>)")
        entries: dict[str, tuple[str, str]] = {}
        for node in root:
            if not isinstance(node.tag, str):
                continue
            fields = {etree.QName(child).localname: (child.text or "").strip() for child in node}
            if fields.get("loc"):
                entries.setdefault(
                    url_key(fields["loc"]), (fields["loc"], fields.get("lastmod", ""))
                )
        if tag == "sitemapindex":  # claimed here, so no sitemap below reads them again
            entries = {k: v for k, v in entries.items() if k not in self._sitemaps_read}
            self._sitemaps_read.update(entries)
        complete = True
        listed = tqdm(
            entries.values(),
            desc="fetching",
            unit="page",
            disable=not self.progress or tag != "urlset",
        )
        for loc, lastmod in listed:
            if tag == "urlset":
                self._listed_page(loc, lastmod, origin, blog, loaded)
                continue
            if self.fetcher.budget_spent:
                self._unfetched += 1
                complete = False
                continue
            try:  # a sitemap index: its sitemaps, on the blog's site, a few levels deep
                if depth >= MAX_SITEMAP_DEPTH:
                    raise SourceError(loc, f"sitemaps nested more than {MAX_SITEMAP_DEPTH} deep")
                child = self.fetcher.fetch(loc, blog)
                self._sitemaps_read.add(url_key(child.url))
                complete &= self._sitemap(loc, child, origin, loaded, blog, depth + 1)
            except SourceError as error:
                loaded.skipped.append(error)
                complete = False  # its pages are unknown: keep what the index holds
        return complete

    # --- feeds ------------------------------------------------------------------------

    def _feed(self, url: str, fetched: Fetched, origin: str, loaded: Loaded) -> bool:
        feed = feedparser.parse(fetched.body)
        error = feed.get("bozo_exception")
        if feed.get("bozo") and hasattr(error, "getLineNumber"):
            raise SourceError(
                url, f"malformed feed ({error.getMessage()}, line {error.getLineNumber()})"
            )
        if not feed.entries and not feed.get("version"):
            raise SourceError(url, "not an RSS or Atom feed")
        blog = site_origin(url)
        for entry in feed.entries:
            link = str(entry.get("link") or "")
            if not link:
                loaded.skipped.append(
                    SourceError(url, f"feed entry '{entry.get('title', '?')}' has no link")
                )
                continue
            modified = str(entry.get("updated") or entry.get("published") or "")
            content = entry.get("content") or []
            body = str(content[0].get("value", "")) if content else ""
            title = html.unescape(str(entry.get("title") or ""))
            page = clean_html(_document(body), link, title)
            if article_words(page.text) < FEED_MIN_WORDS:  # a summary only: read the page
                self._listed_page(link, modified, origin, blog, loaded)
                continue
            if self._unchanged(link, modified, loaded):
                continue
            try:
                self.fetcher.check_host(link, blog, link)
            except SourceError as exc:
                loaded.skip(exc, url_key(link))
                continue
            parsed = entry.get("published_parsed") or entry.get("updated_parsed")
            page = CleanPage(
                text=page.text,
                title=title,
                author=str(entry.get("author") or ""),
                date=time.strftime("%Y-%m-%d", parsed) if parsed else "",
                url=link,
                tags=tuple(str(t.get("term")) for t in entry.get("tags") or [] if t.get("term")),
            )
            loaded.articles.append(self._article(page, link, link, origin, modified))
        return True

    # --- WordPress --------------------------------------------------------------------

    def _wordpress(self, url: str, origin: str, loaded: Loaded) -> bool:
        api = _with_query(url, per_page=100, _embed=1)
        pages, number = 1, 1
        while number <= min(pages, MAX_API_PAGES):
            fetched = self.fetcher.fetch(_with_query(api, page=number))
            try:
                posts = json.loads(fetched.text)
            except ValueError as exc:
                raise SourceError(url, "the WordPress API did not answer with JSON") from exc
            if not isinstance(posts, list):
                raise SourceError(url, "the WordPress API did not answer with a list of posts")
            pages = int(fetched.headers.get("x-wp-totalpages", "1") or 1)
            for post in posts:
                self._wordpress_post(post, url, origin, loaded)
            number += 1
        return True

    def _wordpress_post(self, post: object, api: str, origin: str, loaded: Loaded) -> None:
        if not isinstance(post, dict) or not post.get("link"):
            loaded.skipped.append(SourceError(api, "a post without a link"))
            return
        link, modified = str(post["link"]), str(post.get("modified") or "")
        if self._unchanged(link, modified, loaded):
            return
        content = post.get("content") or {}
        if content.get("protected"):
            loaded.skip(SourceError(link, "password-protected post"), url_key(link))
            return
        title = html.unescape(
            re.sub(r"<[^>]+>", "", str((post.get("title") or {}).get("rendered", "")))
        )
        page = clean_html(_document(str(content.get("rendered", ""))), link, title.strip())
        if not page.text:
            loaded.skip(SourceError(link, "no article text in the post"), url_key(link))
            return
        embedded = post.get("_embedded") or {}
        authors = embedded.get("author") or [{}]
        terms = [t for group in embedded.get("wp:term") or [] for t in group if isinstance(t, dict)]
        page = CleanPage(
            text=page.text,
            title=title.strip(),
            author=str(authors[0].get("name") or ""),
            date=str(post.get("date") or "")[:10],
            url=link,
            tags=tuple(
                str(t["name"]) for t in terms if t.get("taxonomy") == "post_tag" and t.get("name")
            ),
        )
        slug = slugify(str(post.get("slug") or "")) if post.get("slug") else ""
        loaded.articles.append(self._article(page, link, link, origin, modified, slug))

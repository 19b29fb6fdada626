"""Progress of a computation: a tqdm bar when tqdm is installed, else one line on stderr
rewritten in place (a notebook shows both)."""

import sys


class _Line:
    def __init__(self, desc):
        self.desc = desc
        self.open = False

    def update(self, fraction, message):
        self.open = True
        sys.stderr.write(f"\r{self.desc}: {100 * fraction:5.1f}%  {message}\x1b[K")
        sys.stderr.flush()

    def close(self):
        if self.open:
            sys.stderr.write("\n")
            sys.stderr.flush()
            self.open = False


class _Tqdm:
    """A tqdm bar per stretch of work (a pipeline reports its stages one after another)."""

    def __init__(self, tqdm, desc):
        self.tqdm = tqdm
        self.desc = desc
        self.bar = None

    def update(self, fraction, message):
        if self.bar is None:
            self.bar = self.tqdm(total=1000, desc=self.desc, bar_format="{l_bar}{bar}| {elapsed}<{remaining} {postfix}")
        self.bar.n = int(round(1000 * fraction))
        self.bar.set_postfix_str(message, refresh=False)
        self.bar.refresh()

    def close(self):
        if self.bar is not None:
            self.bar.close()
            self.bar = None


def make(progress, desc):
    """None for no progress; an object with update(fraction, message) and close()."""
    if progress is None or progress is False:
        return None
    if progress is True:
        try:
            from tqdm.auto import tqdm
        except ImportError:
            return _Line(desc)
        return _Tqdm(tqdm, desc)
    if hasattr(progress, "update") and hasattr(progress, "close"):
        return progress
    raise TypeError("progress must be True, False or an object with update(fraction, message) and close()")

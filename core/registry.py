"""Registries bound to entry-point groups.

A registry maps names to classes declared as entry points (``Name = module:Class``) in installed
distributions' metadata. Discovery reads that metadata with the ``entrypoints`` package and imports
nothing; a class's module is imported the first time a config asks for its name. Classes can also be
registered in-process with :meth:`Registry.register` (tests, notebooks).
"""
from __future__ import annotations

import difflib
import inspect
from dataclasses import dataclass
from typing import Any, Callable, Dict, List, Optional

import entrypoints

from .arguments import check_arguments
from .errors import RegistryError

__all__ = ['PluginSpec', 'Registry', 'RegistryError', 'discover']


@dataclass(frozen=True)
class PluginSpec:
    """One discovered entry point: where a name comes from, before anything is imported."""
    group: str
    name: str
    distribution: str
    target: str  # 'module:attr'


def _distribution_name(ep: entrypoints.EntryPoint) -> str:
    dist = getattr(ep, 'distro', None)
    if dist is None:
        return '<unknown distribution>'
    return f'{dist.name} {dist.version}' if dist.version else dist.name


def discover(group: str) -> Dict[str, List[PluginSpec]]:
    """All entry points of ``group`` by name; a name may come from several distributions."""
    found: Dict[str, List[PluginSpec]] = {}
    for ep in entrypoints.get_group_all(group):
        target = ep.module_name + (f':{ep.object_name}' if ep.object_name else '')
        spec = PluginSpec(group, ep.name, _distribution_name(ep), target)
        specs = found.setdefault(ep.name, [])
        # The same distribution can be seen twice (an editable install next to a built one);
        # only different distributions declaring one name is a conflict.
        if all(s.distribution.split(' ')[0] != spec.distribution.split(' ')[0] for s in specs):
            specs.append(spec)
    return found


class Registry:
    """Names to classes for one kind of component, bound to one entry-point group.

    Args:
        name: what the registry holds, used in error messages (e.g. ``'models'``).
        group: the entry-point group searched for plugins (e.g. ``'sbcore.models'``).
    """

    def __init__(self, name: str, group: str):
        self.name = name
        self.group = group
        self._local: Dict[str, type] = {}
        self._loaded: Dict[str, Any] = {}
        self._specs: Optional[Dict[str, List[PluginSpec]]] = None

    def __repr__(self) -> str:
        return f'Registry(name={self.name!r}, group={self.group!r})'

    # discovery -----------------------------------------------------------------------------
    @property
    def specs(self) -> Dict[str, List[PluginSpec]]:
        if self._specs is None:
            self._specs = discover(self.group)
        return self._specs

    def refresh(self) -> None:
        """Forget discovered entry points (after installing a plugin package at run time)."""
        self._specs = None
        self._loaded.clear()

    def names(self) -> List[str]:
        return sorted(set(self.specs) | set(self._local))

    def __contains__(self, name: str) -> bool:
        return name in self._local or name in self.specs

    # registration --------------------------------------------------------------------------
    def register(self, obj: Optional[type] = None, *, name: Optional[str] = None,
                 force: bool = False) -> Callable:
        """Register a class in this process (decorator or call). Entry points are the normal way."""

        def _do(cls: type) -> type:
            key = name or cls.__name__
            if not force and key in self._local and self._local[key] is not cls:
                raise RegistryError(f'{self.name} registry: {key!r} is already registered '
                                    f'in-process as {self._local[key]!r}')
            self._local[key] = cls
            return cls

        return _do(obj) if obj is not None else _do

    # lookup --------------------------------------------------------------------------------
    def get(self, name: str) -> Any:
        """The class registered as ``name``; imports its module on first use."""
        if not isinstance(name, str):
            if inspect.isclass(name) or callable(name):
                return name
            raise RegistryError(f'{self.name} registry: type must be a name (str) or a class, '
                                f'got {type(name).__name__} {name!r}')
        if name in self._local:
            return self._local[name]
        if name in self._loaded:
            return self._loaded[name]
        specs = self.specs.get(name)
        if not specs:
            close = difflib.get_close_matches(name, self.names(), n=3, cutoff=0.5)
            hint = f' Did you mean {", ".join(map(repr, close))}?' if close else ''
            known = ', '.join(self.names()) or 'none'
            raise RegistryError(
                f'{self.name} registry: no plugin named {name!r} in entry-point group '
                f'{self.group!r}.{hint} Known names: {known}. A plugin becomes known when an '
                f'installed distribution declares it under [{self.group}] in its entry points.')
        if len(specs) > 1:
            where = '; '.join(f'{s.distribution} ({s.target})' for s in specs)
            raise RegistryError(f'{self.name} registry: {name!r} is declared by more than one '
                                f'distribution in group {self.group!r}: {where}. Uninstall one.')
        spec = specs[0]
        module_name, _, attr = spec.target.partition(':')
        try:
            module = __import__(module_name, fromlist=['_'])
            obj = module
            for part in attr.split('.') if attr else []:
                obj = getattr(obj, part)
        except Exception as exc:  # any import-time failure of one plugin stays local to it
            raise RegistryError(
                f'{self.name} registry: plugin {name!r} from distribution {spec.distribution} '
                f'({spec.target}) failed to import: {type(exc).__name__}: {exc}') from exc
        self._loaded[name] = obj
        return obj

    def build(self, cfg: Any, **default_args: Any) -> Any:
        """Build an object from ``dict(type=Name, **kwargs)``; ``default_args`` fill unset keys."""
        if not isinstance(cfg, dict) or 'type' not in cfg:
            raise RegistryError(f'{self.name} registry: a config to build must be a dict with a '
                                f'"type" key, got {cfg!r}')
        args = {k: v for k, v in dict(cfg).items() if k != 'type'}
        for key, value in default_args.items():
            args.setdefault(key, value)
        cls = self.get(cfg['type'])
        check_arguments(f'{self.name} registry: {cfg["type"]}', cls, args)  # see arguments.py
        return cls(**args)
